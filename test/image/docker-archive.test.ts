// docker-archive writing held against the image-check oracle (skopeo, oci-image-tool, podman,
// umoci, chroot), determinism, and readDockerArchive on our own archives, on skopeo's, after an
// OCI round trip, with gzip layers, without manifest.json, and on hostile or truncated archives.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../../src/base/error.js';
import { makeImageConfig, mergeEnv } from '../../src/image/config.js';
import { readDockerArchive, writeDockerArchive, writeStreamedArchive } from '../../src/image/docker-archive.js';
import { storeLayerEntries, storePathSources, writeLayer } from '../../src/image/layer.js';
import { TarWriter, withFileSink, type TarEntry } from '../../src/image/tar-writer.js';
import { needTool } from '../helpers/tools.js';
import {
  APP_PATH,
  BUSYBOX_PATH,
  GRAPH,
  busyboxImage,
  imageCheck,
  layeredImage,
  makeStore,
  nixDirs,
  sha256File,
  tempDir,
  twoLayerImage,
} from './helpers.js';

const test = suite('image/docker-archive');
const oracle = () => needTool('image-check oracle', 'skopeo', 'umoci', 'podman', 'oci-image-tool', 'busybox');

async function rejects(p: Promise<unknown>, ok: (e: unknown) => boolean, what = '') {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected a rejection ${what}`);
  assert.ok(ok(err), `${what}: unexpected error ${String((err as Error)?.message ?? err)}`);
}

function expectPass(archive: string, ref: string, cmd: string[], output: string) {
  const r = imageCheck(archive, ref, cmd);
  assert.ok(r.status === 0 && /IMAGE CHECK: PASS/.test(r.out), r.out);
  assert.ok(r.out.includes(`ran: ${cmd.join(' ')} -> ${output}\n`), r.out);
}

test('one-layer busybox image (buildImage layout) passes image-check and runs', async () => {
  if (!oracle()) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await busyboxImage(s, t.dir, 'bb');
    expectPass(a.path, 'example.com/busybox:1.0', ['/bin/sh', '-c', 'echo hello'], 'hello');
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('two-layer image (both layouts) passes image-check; the app reads a store file', async () => {
  if (!oracle()) return;
  const s = makeStore();
  const t = tempDir();
  try {
    for (const layout of ['buildImage', 'streamLayeredImage'] as const) {
      const a = await twoLayerImage(s, t.dir, `two-${layout}`, layout);
      expectPass(a.path, 'example.com/two:latest', [`${APP_PATH}/bin/app`], 'app says: hello from the store');
    }
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('layered image (store layers by popularity + customisation layer) passes image-check', async () => {
  if (!oracle()) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await layeredImage(s, t.dir, 'lay');
    // app → busybox, hello: scores app 1, busybox 2, hello 2; busybox before hello by name; 2 store layers
    assert.equal(a.groups, [[BUSYBOX_PATH], [GRAPH[1]!.path, APP_PATH]]);
    expectPass(a.path, 'example.com/layered:v1', ['/bin/app'], 'app says: hello from the store');
    // the same image streamed in one pass has the same bytes
    const st = await writeStreamedArchive(join(t.dir, 'streamed.tar'), {
      repoTags: ['example.com/layered:v1'],
      layers: [
        ...a.groups.map((g) => ({ entries: storeLayerEntries(g, s, { mtime: 1, owner: { uid: 0, gid: 0, uname: 'root', gname: 'root' } }) })),
        a.layers[a.layers.length - 1]!,
      ],
      makeConfig: (d) => {
        assert.equal(d, a.layers.map((l) => l.diffID));
        return a.config;
      },
      mtime: 1,
    });
    assert.is(sha256File(st.path), sha256File(a.path));
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('a zstd-compressed archive passes image-check (skopeo 1.9 reads zstd but not gzip archives)', async () => {
  if (!oracle() || !needTool('zstd archive', 'zstd')) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await busyboxImage(s, t.dir, 'bb');
    const z = await writeDockerArchive(join(t.dir, 'bb.tar.zst'), [{ repoTags: ['example.com/busybox:1.0'], config: a.config, layers: a.layers }], { layout: 'buildImage', mtime: 1, compression: 'zstd' });
    expectPass(z.path, 'example.com/busybox:1.0', ['/bin/sh', '-c', 'echo hello'], 'hello');
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('two images in one archive (mergeImages): both load, each readable by its tag', async () => {
  if (!oracle()) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const bb = await busyboxImage(s, t.dir, 'bb');
    const two = await twoLayerImage(s, t.dir, 'two');
    const both = await writeDockerArchive(
      join(t.dir, 'both.tar'),
      [
        { repoTags: ['example.com/busybox:1.0'], config: bb.config, layers: bb.layers },
        { repoTags: ['example.com/two:latest'], config: two.config, layers: two.layers },
      ],
      { layout: 'buildImage', mtime: 1 },
    );
    // image-check's plain `docker-archive:X` needs a single image (skopeo 1.9); check podman and
    // skopeo's by-reference selection directly instead
    const w = join(t.dir, 'podman');
    mkdirSync(join(w, 'xdg'), { recursive: true, mode: 0o700 });
    const env = { ...process.env, HOME: w, TMPDIR: t.dir, XDG_RUNTIME_DIR: join(w, 'xdg') };
    const P = ['--root', join(w, 'root'), '--runroot', join(w, 'run'), '--tmpdir', t.dir, '--storage-driver', 'vfs'];
    execFileSync('podman', [...P, 'load', '-i', both.path], { env, stdio: 'pipe' });
    const ids = execFileSync('podman', [...P, 'images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { env, encoding: 'utf8' }).trim().split('\n').sort();
    assert.equal(ids, [`example.com/busybox:1.0 ${bb.config.digest}`, `example.com/two:latest ${two.config.digest}`]);
    for (const [ref, cfg] of [['example.com/busybox:1.0', bb.config], ['example.com/two:latest', two.config]] as const) {
      const raw = execFileSync('skopeo', ['inspect', '--raw', '--config', `docker-archive:${both.path}:${ref}`], { env });
      assert.ok(raw.equals(cfg.bytes), ref);
    }
    assert.is((await readDockerArchive(both.path, { ref: 'example.com/two:latest' })).configDigest, two.config.digest);
    assert.is((await readDockerArchive(both.path, { ref: 'example.com/busybox:1.0' })).configDigest, bb.config.digest);
    assert.is((await readDockerArchive(both.path)).configDigest, bb.config.digest, 'default: the first manifest entry');
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('determinism: same archive bytes from stores with different mtimes, both layouts', async () => {
  const s1 = makeStore(1);
  const s2 = makeStore(987654321);
  const t = tempDir();
  try {
    for (const layout of ['buildImage', 'streamLayeredImage'] as const) {
      const a = await twoLayerImage(s1, t.dir, `a-${layout}`, layout);
      const b = await twoLayerImage(s2, t.dir, `b-${layout}`, layout);
      assert.is(a.digest, b.digest);
      assert.is(sha256File(a.path), sha256File(b.path));
      assert.is(a.digest, `sha256:${sha256File(a.path)}`);
    }
    const l1 = await layeredImage(s1, t.dir, 'l1');
    const l2 = await layeredImage(s2, t.dir, 'l2');
    assert.is(sha256File(l1.path), sha256File(l2.path));
  } finally {
    s1.cleanup();
    s2.cleanup();
    t.cleanup();
  }
});

test('readDockerArchive: own archives (both layouts), layers copied back with their diffIDs', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    for (const layout of ['buildImage', 'streamLayeredImage'] as const) {
      const a = await busyboxImage(s, t.dir, `bb-${layout}`, layout);
      const img = await readDockerArchive(a.path, { ref: 'example.com/busybox:1.0' });
      assert.equal(img.repoTags, ['example.com/busybox:1.0']);
      assert.is(img.configDigest, a.config.digest);
      assert.equal(img.env, ['PATH=/bin', 'FROM_BASE=1']);
      assert.equal(img.layers.map((l) => l.diffID), [a.layers[0]!.diffID]);
      const back = await img.layers[0]!.copyTo(join(t.dir, `back-${layout}.tar`));
      assert.is(back.diffID, a.layers[0]!.diffID);
      await rejects(readDockerArchive(a.path, { ref: 'other:1' }), (e: unknown) => e instanceof ImgError && e.code === 'E_ARCHIVE' && /has no image 'other:1'/.test(e.message));
    }
    assert.equal(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3'], 'dedup'), ['PATH=/bin', 'A=2', 'B=3']);
    assert.equal(mergeEnv(['A=1'], ['A=2'], 'concat'), ['A=1', 'A=2']);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

function skopeo(args: string[], dir: string) {
  const env = { ...process.env, HOME: join(dir, 'home'), TMPDIR: dir, XDG_RUNTIME_DIR: join(dir, 'xdg') };
  mkdirSync(join(dir, 'xdg'), { recursive: true, mode: 0o700 });
  execFileSync('skopeo', ['--insecure-policy', ...args], { env, stdio: 'pipe' });
}

test('readDockerArchive: skopeo docker-archive copy, and back from an OCI layout (gzip layers)', async () => {
  if (!needTool('skopeo round trip', 'skopeo')) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await twoLayerImage(s, t.dir, 'two');
    const sk = join(t.dir, 'skopeo.tar');
    skopeo(['copy', '-q', `docker-archive:${a.path}`, `docker-archive:${sk}:example.com/copied:v2`], t.dir);
    const img = await readDockerArchive(sk, { ref: 'example.com/copied:v2' });
    assert.is(img.configDigest, a.config.digest, 'skopeo keeps the Go-ordered config bytes');
    assert.equal(img.layers.map((l) => l.diffID), a.layers.map((l) => l.diffID));
    assert.ok(img.layers.every((l) => l.member.endsWith('.tar') && !l.member.includes('/')), 'skopeo stores layers at the top level (via symlinks)');
    const oci = join(t.dir, 'oci');
    skopeo(['copy', '-q', `docker-archive:${a.path}`, `oci:${oci}:v1`], t.dir);
    const back = join(t.dir, 'back.tar');
    skopeo(['copy', '-q', `oci:${oci}:v1`, `docker-archive:${back}:example.com/back:v1`], t.dir);
    const img2 = await readDockerArchive(back);
    assert.is(img2.configDigest, a.config.digest);
    assert.equal(img2.layers.map((l) => l.diffID), a.layers.map((l) => l.diffID));
    for (const [i, l] of img2.layers.entries()) assert.is((await l.copyTo(join(t.dir, `l${i}.tar`))).diffID, a.layers[i]!.diffID);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('readDockerArchive: gzip layers, a gzip outer archive, a repeated layer', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const plain = await writeLayer({ sources: [...nixDirs(0o755), ...storePathSources([BUSYBOX_PATH], s)], mtime: 1 }, join(t.dir, 'l.tar'));
    const gz = await writeLayer({ sources: [...nixDirs(0o755), ...storePathSources([BUSYBOX_PATH], s)], mtime: 1 }, join(t.dir, 'l.tar.gz'), 'gzip');
    assert.is(gz.diffID, plain.diffID);
    assert.is.not(gz.digest, gz.diffID);
    const config = makeImageConfig({ architecture: 'amd64', created: '1970-01-01T00:00:01Z', config: { Env: ['X=1'] }, diffIDs: [gz.diffID, gz.diffID] });
    const a = await writeDockerArchive(join(t.dir, 'gz.tar'), [{ repoTags: ['gz:1'], config, layers: [gz, gz] }], { layout: 'streamLayeredImage', mtime: 1 });
    const img = await readDockerArchive(a.path);
    assert.equal(img.layers.map((l) => l.compression), ['gzip', 'gzip']);
    assert.is((await img.layers[1]!.copyTo(join(t.dir, 'x.tar'))).diffID, plain.diffID);
    // compressed outer archive: decompressed into the work dir, nowhere else
    const outer = await writeDockerArchive(join(t.dir, 'outer.tar.gz'), [{ repoTags: ['gz:1'], config, layers: [plain, plain] }], { layout: 'buildImage', mtime: 1, compression: 'gzip' });
    await rejects(readDockerArchive(outer.path), (e: unknown) => e instanceof ImgError && /no work directory/.test(e.message));
    const work = join(t.dir, 'work');
    const img2 = await readDockerArchive(outer.path, { workDir: work });
    assert.equal(img2.layers.map((l) => l.diffID), [plain.diffID, plain.diffID]);
    assert.equal(img2.env, ['X=1']);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('readDockerArchive: legacy archive without manifest.json (repositories + parent chain)', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await twoLayerImage(s, t.dir, 'two');
    const x = join(t.dir, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', a.path, '-C', x]);
    rmSync(join(x, 'manifest.json'));
    const legacy = join(t.dir, 'legacy.tar');
    execFileSync('tar', ['--sort=name', '-cf', legacy, '-C', x, '.']);
    const img = await readDockerArchive(legacy, { ref: 'example.com/two:latest' });
    assert.is(img.configDigest, undefined);
    assert.equal(img.layers.map((l) => l.diffID), a.layers.map((l) => l.diffID));
    assert.equal(img.repoTags, ['example.com/two:latest']);
    assert.equal((img.config.config as Record<string, unknown>).Cmd, [`${APP_PATH}/bin/app`]);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

const owner = { uid: 0, gid: 0, uname: '', gname: '' };
async function rawTar(path: string, entries: TarEntry[]) {
  await withFileSink(path, 'none', async (sink) => {
    const w = new TarWriter(sink);
    for (const e of entries) await w.add(e);
    return w.finish();
  });
}
const f = (name: string, text: string): TarEntry => ({ type: 'file', name, mode: 0o644, mtime: 1, owner, size: text.length, source: { data: Buffer.from(text) } });
const manifestFor = (layer: string) => f('manifest.json', JSON.stringify([{ Config: 'c.json', RepoTags: ['h:1'], Layers: [layer] }]));

test('hostile archives are refused with E_ARCHIVE naming the member; nothing is extracted', async () => {
  const t = tempDir();
  try {
    const cases: [string, TarEntry[], RegExp][] = [
      ['dotdot', [manifestFor('../x'), f('../x', 'evil')], /member '\.\.\/x' that climbs out/],
      ['abs', [f('/abs', 'evil'), manifestFor('abs')], /absolute name '\/abs'/],
      ['symlink', [{ type: 'symlink', name: 'a', mode: 0o777, mtime: 1, owner, target: '../../etc' }, f('a/passwd', 'x'), manifestFor('a/passwd')], /symlink 'a' pointing outside it \('\.\.\/\.\.\/etc'\)/],
      ['abslink', [{ type: 'symlink', name: 'layer.tar', mode: 0o777, mtime: 1, owner, target: '/etc/passwd' }, manifestFor('layer.tar')], /symlink 'layer\.tar' to the absolute path '\/etc\/passwd'/],
      ['hardlink', [{ type: 'hardlink', name: 'h', mode: 0o644, mtime: 1, owner, target: '../x' }, manifestFor('h')], /hard link 'h' to '\.\.\/x' outside it/],
    ];
    for (const [name, entries, re] of cases) {
      const p = join(t.dir, `${name}.tar`);
      await rawTar(p, entries);
      await rejects(readDockerArchive(p), (e: unknown) => e instanceof ImgError && e.code === 'E_ARCHIVE' && re.test(e.message), name);
    }
    assert.ok(!statSync(join(t.dir, '..')).isFile());
  } finally {
    t.cleanup();
  }
});

test('truncated and corrupt archives give a clear E_ARCHIVE error', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await busyboxImage(s, t.dir, 'bb', 'streamLayeredImage');
    truncateSync(a.path, Math.floor(statSync(a.path).size / 2));
    await rejects(readDockerArchive(a.path), (e: unknown) => e instanceof ImgError && e.code === 'E_ARCHIVE' && /is truncated: member '[0-9a-f]{64}\/layer\.tar' is missing \d+ bytes/.test(e.message));
    const junk = join(t.dir, 'junk.tar');
    writeFileSync(junk, Buffer.alloc(2048, 'z'));
    await rejects(readDockerArchive(junk), (e: unknown) => e instanceof ImgError && /corrupt: bad tar header checksum at offset 0/.test(e.message));
    const b = await busyboxImage(s, t.dir, 'bb2', 'buildImage');
    const bytes = readFileSync(b.path);
    writeFileSync(join(t.dir, 'cut.tar'), bytes.subarray(0, 1536));
    await rejects(readDockerArchive(join(t.dir, 'cut.tar')), (e: unknown) => e instanceof ImgError && e.code === 'E_ARCHIVE');
    await rejects(readDockerArchive(join(t.dir, 'missing.tar')), (e: unknown) => e instanceof ImgError && /does not exist/.test(e.message));
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('readDockerArchive: zstd layers and a zstd outer archive', async () => {
  if (!needTool('zstd archives', 'zstd')) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const spec = { sources: [...nixDirs(0o755), ...storePathSources([BUSYBOX_PATH], s)], mtime: 1 };
    const zl = await writeLayer(spec, join(t.dir, 'l.tar.zst'), 'zstd');
    assert.ok(zl.mediaType.endsWith('+zstd'));
    const config = makeImageConfig({ architecture: 'amd64', created: '1970-01-01T00:00:01Z', config: {}, diffIDs: [zl.diffID] });
    const a = await writeDockerArchive(join(t.dir, 'z.tar.zst'), [{ repoTags: ['z:1'], config, layers: [zl] }], { layout: 'streamLayeredImage', mtime: 1, compression: 'zstd' });
    const img = await readDockerArchive(a.path, { workDir: join(t.dir, 'work') });
    assert.equal(img.layers.map((l) => l.compression), ['zstd']);
    assert.is((await img.layers[0]!.copyTo(join(t.dir, 'back.tar'))).diffID, zl.diffID);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('readDockerArchive: Docker >= 25 layout (config and layers under blobs/sha256, legacy symlink)', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const l = await writeLayer({ sources: storePathSources([BUSYBOX_PATH], s), mtime: 1 }, join(t.dir, 'l.tar'));
    const config = makeImageConfig({ architecture: 'amd64', created: '1970-01-01T00:00:01Z', config: { Env: ['A=b'] }, diffIDs: [l.diffID] });
    const lh = l.diffID.slice(7);
    const ch = config.digest.slice(7);
    const p = join(t.dir, 'docker25.tar');
    await rawTar(p, [
      { type: 'directory', name: 'blobs/', mode: 0o755, mtime: 1, owner },
      { type: 'directory', name: 'blobs/sha256/', mode: 0o755, mtime: 1, owner },
      { type: 'file', name: `blobs/sha256/${ch}`, mode: 0o644, mtime: 1, owner, size: config.bytes.length, source: { data: config.bytes } },
      { type: 'file', name: `blobs/sha256/${lh}`, mode: 0o644, mtime: 1, owner, size: l.size, source: { path: l.path } },
      { type: 'directory', name: `${'e'.repeat(64)}/`, mode: 0o755, mtime: 1, owner },
      { type: 'symlink', name: `${'e'.repeat(64)}/layer.tar`, mode: 0o777, mtime: 1, owner, target: `../blobs/sha256/${lh}` },
      f('index.json', '{"schemaVersion":2,"manifests":[]}'),
      f('manifest.json', JSON.stringify([{ Config: `blobs/sha256/${ch}`, RepoTags: ['d25:latest'], Layers: [`${'e'.repeat(64)}/layer.tar`] }])),
      f('oci-layout', '{"imageLayoutVersion":"1.0.0"}'),
    ]);
    const img = await readDockerArchive(p, { ref: 'd25:latest' });
    assert.is(img.configDigest, config.digest);
    assert.is(img.layers[0]!.member, `blobs/sha256/${lh}`);
    assert.equal(img.env, ['A=b']);
    assert.is((await img.layers[0]!.copyTo(join(t.dir, 'back.tar'))).diffID, l.diffID);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('a layer whose bytes do not match its diffID is refused when copied', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await busyboxImage(s, t.dir, 'bb', 'streamLayeredImage');
    const bytes = readFileSync(a.path);
    const at = bytes.indexOf(Buffer.from('BusyBox')); // inside the busybox binary, inside the layer
    assert.ok(at > 0);
    bytes[at] = bytes[at]! ^ 1;
    writeFileSync(join(t.dir, 'flipped.tar'), bytes);
    const img = await readDockerArchive(join(t.dir, 'flipped.tar'));
    await rejects(img.layers[0]!.copyTo(join(t.dir, 'l.tar')), (e: unknown) => e instanceof ImgError && /has diffID sha256:[0-9a-f]{64}, but the image config says/.test(e.message));
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test.run();
