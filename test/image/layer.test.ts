// Layers from a temp store: entry order, modes and owners, copyToRoot's dirlink rules (rsync -k
// and -K), fakeroot-style overrides, hard links flattened, and determinism across source mtimes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  copyToRootSources,
  layerEntries,
  layerTarSize,
  storePathSources,
  storeLayerEntries,
  storeResolver,
  writeLayer,
  writeTarFile,
  type LayerSpec,
} from '../../src/image/layer.js';
import { ImgError } from '../../src/base/error.js';
import { BUSYBOX_PATH, makeStore, sha256File, tempDir } from './helpers.js';

const test = suite('image/layer');

function busyboxSpec(s: ReturnType<typeof makeStore>): LayerSpec {
  return {
    sources: [
      ...copyToRootSources([BUSYBOX_PATH], s),
      { kind: 'directory', to: '/nix', mode: 0o555 },
      { kind: 'directory', to: '/nix/store', mode: 0o555 },
      ...storePathSources([BUSYBOX_PATH], s),
    ],
    mtime: 315532800,
    resolveAbsolute: storeResolver(s),
  };
}

const list = (spec: LayerSpec) =>
  layerEntries(spec).map((e) => `${e.type[0]} ${e.mode.toString(8)} ${e.owner.uid}:${e.owner.gid} ${e.name}${e.type === 'symlink' ? ` -> ${e.target}` : ''}`);

test('busybox layer: sorted entries, store modes, parents, symlinks verbatim', () => {
  const s = makeStore();
  try {
    assert.equal(list(busyboxSpec(s)), [
      'd 555 0:0 bin/',
      'f 555 0:0 bin/busybox',
      's 777 0:0 bin/sh -> busybox',
      'd 555 0:0 nix/',
      'd 555 0:0 nix/store/',
      `d 555 0:0 ${BUSYBOX_PATH.slice(1)}/`,
      `d 555 0:0 ${BUSYBOX_PATH.slice(1)}/bin/`,
      `f 555 0:0 ${BUSYBOX_PATH.slice(1)}/bin/busybox`,
      `s 777 0:0 ${BUSYBOX_PATH.slice(1)}/bin/sh -> busybox`,
    ]);
  } finally {
    s.cleanup();
  }
});

test('determinism: same layer bytes from stores with different mtimes; planned size matches', async () => {
  const a = makeStore(1);
  const b = makeStore(1234567890);
  const t = tempDir();
  try {
    const la = await writeLayer(busyboxSpec(a), join(t.dir, 'a.tar'));
    const lb = await writeLayer(busyboxSpec(b), join(t.dir, 'b.tar'));
    assert.is(la.diffID, lb.diffID);
    assert.is(la.size, layerTarSize(busyboxSpec(a)));
    const v = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', join(t.dir, 'a.tar')], { encoding: 'utf8' });
    assert.match(v, /-r-xr-xr-x 0\/0 +1\d+ 1980-01-01 00:00:00 bin\/busybox/);
  } finally {
    a.cleanup();
    b.cleanup();
    t.cleanup();
  }
});

/** Adds store paths for the dirlink tests: pkgB/bin/{tool}, pkgA/bin -> pkgB/bin, pkgC: lib/x + lib64 -> lib, pkgD: lib64/y. */
function dirlinkStore() {
  const s = makeStore();
  const mk = (name: string) => join(s.physicalStore, `${'b'.repeat(32)}-${name}`);
  const B = mk('pkgB');
  mkdirSync(join(B, 'bin'), { recursive: true });
  writeFileSync(join(B, 'bin', 'tool'), 'tool\n');
  const A = mk('pkgA');
  mkdirSync(A);
  symlinkSync(`/nix/store/${'b'.repeat(32)}-pkgB/bin`, join(A, 'bin'));
  const C = mk('pkgC');
  mkdirSync(join(C, 'lib'), { recursive: true });
  writeFileSync(join(C, 'lib', 'x'), 'x\n');
  symlinkSync('lib', join(C, 'lib64'));
  const D = mk('pkgD');
  mkdirSync(join(D, 'lib64'), { recursive: true });
  writeFileSync(join(D, 'lib64', 'y'), 'y\n');
  const p = (n: string) => `/nix/store/${'b'.repeat(32)}-${n}`;
  return { s, A: p('pkgA'), B: p('pkgB'), C: p('pkgC'), D: p('pkgD') };
}

test('copyToRoot, keepContentsDirlinks = false (rsync -k): symlinks to dirs become dirs', () => {
  const { s, A, C, D } = dirlinkStore();
  try {
    const spec: LayerSpec = { sources: copyToRootSources([A, C, D], s, false), mtime: 1, resolveAbsolute: storeResolver(s) };
    const names = list(spec).map((l) => l.split(' ').slice(3).join(' '));
    // pkgA's bin symlink is copied as pkgB's bin directory; pkgC's lib64 -> lib is a dir link
    // too, so it becomes a directory holding x, and pkgD's lib64/y merges into it.
    assert.equal(names, ['bin/', 'bin/tool', 'lib/', 'lib/x', 'lib64/', 'lib64/x', 'lib64/y']);
  } finally {
    s.cleanup();
  }
});

test('copyToRoot, keepContentsDirlinks = true (rsync -K): links kept, dirs merge through them', () => {
  const { s, A, B, C, D } = dirlinkStore();
  try {
    const spec: LayerSpec = { sources: copyToRootSources([C, D], s, true), mtime: 1, resolveAbsolute: storeResolver(s) };
    const names = list(spec).map((l) => l.split(' ').slice(3).join(' '));
    assert.equal(names, ['lib/', 'lib/x', 'lib/y', 'lib64 -> lib']);
    // a directory landing on a symlink into the store cannot be merged (rsync would write into the store)
    const bad: LayerSpec = { sources: copyToRootSources([A, B], s, true), mtime: 1 };
    assert.throws(() => layerEntries(bad), (e: unknown) => e instanceof ImgError && /directory '\/bin' would be merged through the symlink/.test(e.message));
    const ok: LayerSpec = { sources: copyToRootSources([A], s, true), mtime: 1 };
    assert.equal(list(ok).map((l) => l.split(' ').slice(3).join(' ')), [`bin -> /nix/store/${'b'.repeat(32)}-pkgB/bin`]);
  } finally {
    s.cleanup();
  }
});

test('overrides: owner and mode in headers (recursive too); unknown paths are an error', () => {
  const s = makeStore();
  try {
    const spec: LayerSpec = {
      sources: [
        { kind: 'directory', to: '/home/alice', mode: 0o755 },
        { kind: 'file', to: '/home/alice/.profile', mode: 0o644, data: Buffer.from('x') },
        { kind: 'directory', to: '/tmp', mode: 0o755 },
      ],
      mtime: 1,
      overrides: [
        { path: '/home/alice', uid: 1000, gid: 1000, recursive: true },
        { path: '/tmp', mode: 0o1777 },
      ],
    };
    assert.equal(list(spec), [
      'd 755 0:0 home/',
      'd 755 1000:1000 home/alice/',
      'f 644 1000:1000 home/alice/.profile',
      'd 1777 0:0 tmp/',
    ]);
    assert.throws(
      () => layerEntries({ ...spec, overrides: [{ path: '/nope', uid: 1 }] }),
      (e: unknown) => e instanceof ImgError && e.message === "ownership override for '/nope' names no entry in the layer",
    );
  } finally {
    s.cleanup();
  }
});

test('hard links are written as regular files with their content; dir replaced by file is refused', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const d = join(t.dir, 'src');
    mkdirSync(d);
    writeFileSync(join(d, 'a'), 'same content\n');
    linkSync(join(d, 'a'), join(d, 'b'));
    chmodSync(join(d, 'a'), 0o444);
    const l = await writeLayer({ sources: [{ kind: 'tree', from: d, to: '/x' }], mtime: 1 }, join(t.dir, 'l.tar'));
    const v = execFileSync('tar', ['-tvf', l.path], { encoding: 'utf8' });
    assert.match(v, /^-r--r--r-- .* x\/a$/m);
    assert.match(v, /^-r--r--r-- .* x\/b$/m);
    assert.is(execFileSync('tar', ['-xOf', l.path, 'x/b'], { encoding: 'utf8' }), 'same content\n');
    assert.throws(
      () => layerEntries({ sources: [{ kind: 'tree', from: d, to: '/x' }, { kind: 'file', to: '/x', mode: 0o644, data: Buffer.from('') }], mtime: 1 }),
      (e: unknown) => e instanceof ImgError && /non-empty directory '\/x'/.test(e.message),
    );
  } finally {
    s.cleanup();
    t.cleanup();
  }
});


// Python's tarfile (what nixpkgs' stream_layered_image.py writes store layers with) is the
// oracle: this script follows the steps the reference §2.8 describes (dirs /nix and /nix/store
// 0755, then each path and what is below it, sorted, absolute names, fixed owner and mtime, hard
// links as regular files) and writes with tarfile's PAX format.
const PY_STORE_LAYER = `
import json, pathlib, sys, tarfile
spec = json.load(sys.stdin)
def fix(ti):
    ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = spec["mtime"], spec["uid"], spec["gid"], spec["uname"], spec["gname"]
    return ti
with tarfile.open(spec["out"], "w", format=tarfile.PAX_FORMAT) as tar:
    for d in ("/nix", "/nix/store"):
        ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
        tar.addfile(fix(ti))
    for logical in spec["paths"]:
        phys = pathlib.Path(spec["store"]) / logical[len("/nix/store/"):]
        files = [phys] if phys.is_symlink() else [phys, *phys.rglob("*")]
        for f in sorted(files):
            ti = tar.gettarinfo(str(f), arcname=logical + str(f)[len(str(phys)):])
            ti.name = "/" + ti.name
            if ti.islnk():
                ti.type, ti.linkname, ti.size = tarfile.REGTYPE, "", f.stat().st_size
            fix(ti)
            if ti.isfile():
                with open(f, "rb") as fh:
                    tar.addfile(ti, fh)
            else:
                tar.addfile(ti)
`;

test('store layers are byte-identical to Python tarfile output (long, non-ASCII names, hard links, symlink paths)', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const longName = `${'l'.repeat(32)}-${'a-really-long-package-name-'.repeat(4)}1.0`;
    const long = join(s.physicalStore, longName);
    mkdirSync(join(long, 'share', 'dóc'), { recursive: true });
    writeFileSync(join(long, 'share', 'dóc', 'ünïcode.txt'), 'x'.repeat(1000));
    writeFileSync(join(long, 'share', 'a'), 'hard\n');
    linkSync(join(long, 'share', 'a'), join(long, 'share', 'b'));
    symlinkSync(`/nix/store/${longName}/share/dóc/ünïcode.txt/${'deep/'.repeat(20)}target`, join(long, 'share', 'long-link'));
    const linkPath = join(s.physicalStore, `${'m'.repeat(32)}-a-symlink-path`);
    symlinkSync(`/nix/store/${longName}`, linkPath);
    const logical = (n: string) => Buffer.from(`/nix/store/${n}`, 'utf8').toString('latin1');
    const paths = [logical(longName), '/nix/store/ap5lw0pk87zllpr8psdiqgxx50yqpp1h-busybox', logical(`${'m'.repeat(32)}-a-symlink-path`), '/nix/store/5pjf9r20rqi9k9z26mkhfzc45gkvzbgg-hello.txt'];
    const store = { storeDir: '/nix/store', toPhysical: (p: string) => Buffer.from(join(s.physicalStore, p.slice(11)), 'utf8').toString('latin1') };
    for (const owner of [{ uid: 0, gid: 0, uname: 'root', gname: 'root' }, { uid: 1000, gid: 100, uname: 'user', gname: 'users' }]) {
      const ours = await writeTarFile(storeLayerEntries(paths, store, { mtime: 1, owner }), join(t.dir, 'ours.tar'));
      const out = join(t.dir, 'py.tar');
      const spec = { out, store: s.physicalStore, paths: paths.map((p) => Buffer.from(p, 'latin1').toString('utf8')), mtime: 1, ...owner };
      execFileSync('python3', ['-c', PY_STORE_LAYER], { input: JSON.stringify(spec) });
      if (process.env.KEEP) execFileSync('cp', [ours.path, out, '/tmp/smk/']);
      assert.is(ours.diffID, `sha256:${sha256File(out)}`);
    }
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test.run();
