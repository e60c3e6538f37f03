// Applying layers onto a directory: a real two-layer image (then run with chroot), whiteouts and
// opaque directories (marker before or after the entries), read-only store directories, and
// hostile layers (`..`, writing through a symlink, hard links out) refused without writing
// outside the root.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../../src/base/error.js';
import { applyLayers, listLayerNames, type RootfsLayer } from '../../src/image/rootfs.js';
import { TarWriter, withFileSink, type TarEntry } from '../../src/image/tar-writer.js';
import { APP_PATH, BUSYBOX_PATH, makeStore, tempDir, twoLayerImage } from './helpers.js';

const test = suite('image/rootfs');
const owner = { uid: 0, gid: 0, uname: '', gname: '' };
const dir = (name: string, mode = 0o755): TarEntry => ({ type: 'directory', name, mode, mtime: 1, owner });
const file = (name: string, text = name): TarEntry => ({ type: 'file', name, mode: 0o644, mtime: 1, owner, size: Buffer.byteLength(text), source: { data: Buffer.from(text) } });

async function layerFile(path: string, entries: TarEntry[]): Promise<RootfsLayer> {
  await withFileSink(path, 'none', async (sink) => {
    const w = new TarWriter(sink);
    for (const e of entries) await w.add(e);
    return w.finish();
  });
  return { name: path.split('/').pop()!, open: () => createReadStream(path) };
}

function tree(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    const st = lstatSync(join(root, r));
    out.push(st.isDirectory() ? `${r}/` : r);
    if (st.isDirectory()) out.push(...tree(root, r));
  }
  return out;
}

test('a two-layer image applied in order runs with chroot; read-only store dirs are kept 0555', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await twoLayerImage(s, t.dir, 'two');
    const root = join(t.dir, 'root');
    const r = await applyLayers(root, a.layers.map((l) => ({ name: l.diffID, open: () => createReadStream(l.path) })));
    assert.equal(r.skipped, []);
    assert.is(readFileSync(join(root, 'etc/hello.txt'), 'utf8'), 'hello from layer 2\n');
    assert.is(statSync(join(root, BUSYBOX_PATH)).mode & 0o777, 0o555);
    assert.is(statSync(join(root, 'nix/store')).mode & 0o777, 0o555);
    assert.ok(lstatSync(join(root, 'bin/sh')).isSymbolicLink());
    assert.is(execFileSync('chroot', [root, `${APP_PATH}/bin/app`], { encoding: 'utf8' }), 'app says: hello from the store\n');
    const names = await listLayerNames({ name: 'l2', open: () => createReadStream(a.layers[1]!.path) });
    assert.equal(names.slice(0, 3), ['etc', 'etc/hello.txt', 'nix']);
    assert.ok(names.includes(`${APP_PATH.slice(1)}/bin/app`));
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('whiteouts and opaque directories (marker first or last) only hide lower layers', async () => {
  const t = tempDir();
  try {
    const L1 = await layerFile(join(t.dir, 'l1.tar'), [
      dir('d/'), file('d/a'), file('d/b'), file('x'),
      dir('o/'), file('o/p'), dir('o/q/'), file('o/q/r'),
      dir('o2/'), file('o2/old'), dir('o2/sub/'), file('o2/sub/lower'),
    ]);
    const L2 = await layerFile(join(t.dir, 'l2.tar'), [
      file('.wh.x', ''), dir('d/'), file('d/.wh.a', ''),
      dir('o/'), file('o/.wh..wh..opq', ''), file('o/new'),
      // marker after this layer's own entries: they stay, lower ones go (also inside sub/)
      dir('o2/'), file('o2/keep'), dir('o2/sub/'), file('o2/sub/mine'), file('o2/.wh..wh..opq', ''),
    ]);
    const root = join(t.dir, 'root');
    await applyLayers(root, [L1, L2]);
    assert.equal(tree(root), ['d/', 'd/b', 'o/', 'o/new', 'o2/', 'o2/keep', 'o2/sub/', 'o2/sub/mine']);
  } finally {
    t.cleanup();
  }
});

test('hostile layers are refused and nothing is written outside the root', async () => {
  const t = tempDir();
  try {
    const outside = join(t.dir, 'outside');
    mkdirSync(outside);
    const cases: [string, TarEntry[], RegExp][] = [
      ['dotdot', [file('../escaped')], /member '\.\.\/escaped' that climbs out/],
      ['through-symlink', [{ type: 'symlink', name: 'a', mode: 0o777, mtime: 1, owner, target: outside }, file('a/passwd')], /'a\/passwd' that goes through the symlink '\/a'/],
      ['hardlink-out', [{ type: 'hardlink', name: 'h', mode: 0o644, mtime: 1, owner, target: '../outside/x' }], /climbs out/],
      ['hardlink-through-symlink', [{ type: 'symlink', name: 's', mode: 0o777, mtime: 1, owner, target: outside }, { type: 'hardlink', name: 'h', mode: 0o644, mtime: 1, owner, target: 's/x' }], /not a regular file inside the root/],
    ];
    for (const [name, entries, re] of cases) {
      const l = await layerFile(join(t.dir, `${name}.tar`), entries);
      let err: unknown;
      await applyLayers(join(t.dir, `root-${name}`), [l]).catch((e) => (err = e));
      assert.ok(err instanceof ImgError && err.code === 'E_ARCHIVE' && re.test(err.message), `${name}: ${String((err as Error)?.message)}`);
    }
    assert.equal(readdirSync(outside), []);
    assert.not.ok(existsSync(join(t.dir, 'escaped')));
  } finally {
    t.cleanup();
  }
});

test.run();
