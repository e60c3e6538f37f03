// NAR serialisation against the real `nix-store --dump` and `nix-hash` on generated trees, plus
// the in-memory helpers and the parser (round trip).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { narHash, narHashOfFile, narOfFile, narOfTree, parseNar, writeNar, type NarNode } from '../../src/derivation/nar.js';
import { nodeFsReader } from '../../src/store/fs-reader.js';
import { toHex, toNixBase32 } from '../../src/base/hash.js';
import { ROOT, needTool } from '../helpers/tools.js';
import { makeSourcePath } from '../../src/derivation/store-path.js';
import { runNix } from './nix-env.js';

const test = suite('derivation/nar');

/** A deterministic pseudo-random byte generator (xorshift32). */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const tmp = mkdtempSync(join(tmpdir(), 'imgeval-nar-'));

/** Builds a tree on disk from an in-memory description (so both sides can be compared). */
function materialise(path: Buffer, n: NarNode): void {
  if (n.type === 'regular') {
    writeFileSync(path, n.contents);
    chmodSync(path, n.executable ? 0o755 : 0o644);
  } else if (n.type === 'symlink') {
    symlinkSync(typeof n.target === 'string' ? Buffer.from(n.target, 'latin1') : Buffer.from(n.target), path);
  } else {
    mkdirSync(path);
    const es = n.entries instanceof Map ? [...n.entries] : Object.entries(n.entries);
    for (const [k, v] of es) materialise(Buffer.concat([path, Buffer.from('/'), Buffer.from(k, 'latin1')]), v);
  }
}

const file = (s: string | Buffer, executable = false): NarNode => ({
  type: 'regular',
  contents: typeof s === 'string' ? Buffer.from(s, 'latin1') : s,
  executable,
});
const u8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

const trees: Record<string, NarNode> = {
  'single-file': file('hello\n'),
  'empty-file': file(''),
  'exec-file': file('#!/bin/sh\necho hi\n', true),
  'symlink-root': { type: 'symlink', target: '/nix/store/abc-dangling' },
  'empty-dir': { type: 'directory', entries: {} },
  'big-file': file(bytes(3 * 1024 * 1024 + 5, 7)),
  'demo': {
    type: 'directory',
    entries: {
      B: file('B'),
      bin: { type: 'directory', entries: { hi: file('#!/bin/sh\necho hi\n', true) } },
      link: { type: 'symlink', target: 'share/a.txt' },
      share: { type: 'directory', entries: { 'a.txt': file('data') } },
    },
  },
  'mixed': {
    type: 'directory',
    entries: {
      [u8('héllo wörld')]: file(u8('ünïcödé\n')),
      [u8('日本語')]: { type: 'directory', entries: { x: file('') } },
      ['raw\xff\xfename']: file('not utf-8 name'),
      'eight888': file('12345678'),
      'seven77': file('1234567'),
      'nine99999': file('123456789'),
      'a': { type: 'directory', entries: { b: { type: 'directory', entries: { c: { type: 'directory', entries: { d: file('deep', true) } } } } } },
      'emptydir': { type: 'directory', entries: {} },
      'A': file(bytes(70000, 3)),
      '-dash': file(bytes(4097, 11), true),
      'abs': { type: 'symlink', target: '/etc/passwd' },
      'dotdot': { type: 'symlink', target: '../../x y' },
      'z.exe': file('', true),
    },
  },
};
for (let i = 0; i < 17; i++) (trees['mixed'] as { entries: Record<string, NarNode> }).entries[`size${i}`] = file(bytes(i, i + 1));

for (const [name, tree] of Object.entries(trees)) {
  test(`${name}: NAR bytes and narHash equal nix-store --dump / nix-hash`, () => {
    if (!needTool('NAR oracle', 'nix-store', 'nix-hash')) return;
    const p = Buffer.from(join(tmp, name));
    rmSync(p, { recursive: true, force: true });
    materialise(p, tree);
    const want = runNix('nix-store', ['--dump', p.toString('latin1')]);
    const chunks: Buffer[] = [];
    writeNar(nodeFsReader, p, (c) => chunks.push(Buffer.from(c)));
    const got = Buffer.concat(chunks);
    assert.ok(got.equals(want), `NAR of ${name} differs from nix-store --dump (${got.length} vs ${want.length} bytes)`);
    const mem = narOfTree(tree);
    assert.ok(mem.equals(want), `in-memory NAR of ${name} differs`);
    const { narHash: h, narSize } = narHash(nodeFsReader, p);
    assert.is(narSize, want.length);
    const nixB32 = runNix('nix-hash', ['--type', 'sha256', '--base32', p.toString('latin1')]).toString().trim();
    assert.is(toNixBase32(h), nixB32);
    const nixHex = runNix('nix-hash', ['--type', 'sha256', p.toString('latin1')]).toString().trim();
    assert.is(toHex(h), nixHex);
    // The parser reads it back to the same NAR.
    const rebuilt = rebuild(want);
    assert.ok(narOfTree(rebuilt).equals(want), 'parse → tree → NAR round trip');
  });
}

/** Parses a NAR into an in-memory tree. */
function rebuild(nar: Buffer): NarNode {
  let root: NarNode | undefined;
  let cur: (NarNode & { type: 'regular' }) | undefined;
  const parts: Buffer[] = [];
  const place = (path: Buffer[], n: NarNode) => {
    if (path.length === 0) {
      root = n;
      return;
    }
    let d = root!;
    for (const seg of path.slice(0, -1)) d = (d as { entries: Map<string, NarNode> }).entries.get(seg.toString('latin1'))!;
    (d as { entries: Map<string, NarNode> }).entries.set(path[path.length - 1]!.toString('latin1'), n);
  };
  const flush = () => {
    if (cur) cur.contents = Buffer.concat(parts.splice(0));
    cur = undefined;
  };
  const used = parseNar(nar, {
    createDirectory(path) {
      flush();
      place(path, { type: 'directory', entries: new Map() });
    },
    createRegularFile(path, executable) {
      flush();
      cur = { type: 'regular', contents: Buffer.alloc(0), executable };
      place(path, cur);
    },
    contents(c) {
      parts.push(Buffer.from(c));
    },
    createSymlink(path, target) {
      flush();
      place(path, { type: 'symlink', target: Buffer.from(target) });
    },
  });
  flush();
  assert.is(used, nar.length);
  return root!;
}

test('narOfFile / narHashOfFile: the verified hello\\n example', () => {
  const nar = narOfFile('hello\n');
  assert.is(nar.length, 120);
  const h = narHashOfFile('hello\n');
  assert.is(toHex(h.narHash), '1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13');
  assert.is(h.narSize, 120);
});

test('parseNar rejects unsorted entries, bad names, truncation', () => {
  const good = narOfTree({ type: 'directory', entries: { a: file('1'), b: file('2') } });
  // Swap the names 'a' and 'b' in place: entries become unsorted.
  const swapped = Buffer.from(good);
  const ia = swapped.indexOf(Buffer.from('name\0\0\0\0\x01\0\0\0\0\0\0\0a'));
  const ib = swapped.indexOf(Buffer.from('name\0\0\0\0\x01\0\0\0\0\0\0\0b'));
  swapped[ia + 16] = 0x62;
  swapped[ib + 16] = 0x61;
  const noop = { createDirectory() {}, createRegularFile() {}, contents() {}, createSymlink() {} };
  assert.throws(() => parseNar(swapped, noop), /not sorted/);
  const dot = Buffer.from(good);
  dot[ia + 16] = 0x2f;
  assert.throws(() => parseNar(dot, noop), /invalid file name/);
  assert.throws(() => parseNar(good.subarray(0, good.length - 8), noop), /unexpected end/);
  assert.throws(() => parseNar(Buffer.from('garbage garbage!'), noop), /archive/);
});

test('filters (builtins.path / filterSource) give the paths Nix computed for the golden cases', () => {
  const dir = join(ROOT, 'test/derivation/cases/data/dir');
  const base = (p: Buffer | string) => {
    const s = p.toString();
    return s.slice(s.lastIndexOf('/') + 1);
  };
  const typeOf = (t: string) => (t === 'regular' ? 'regular' : t === 'directory' ? 'directory' : t === 'symlink' ? 'symlink' : 'unknown');
  const cases: [string, string, (p: Buffer | string, t: string) => boolean][] = [
    ['builtins-path-filter', 'filtered', (p, t) => t !== 'symlink' && base(p) !== 'B'],
    ['filter-source', 'dir', (p, t) => t === 'directory' || base(p) === 'run'],
  ];
  for (const [golden, name, keep] of cases) {
    const r = JSON.parse(readFileSync(join(ROOT, 'test/derivation/golden', golden, 'result.json'), 'utf8')) as { p: { string: string } };
    const calls: string[] = [];
    const h = narHash(nodeFsReader, dir, (p, st) => {
      calls.push(p.toString().slice(dir.length));
      return keep(p, typeOf(st.type));
    });
    assert.is(makeSourcePath(name, h.narHash), r.p.string, golden);
    // Called once per entry, in sorted order, never inside excluded directories.
    if (golden === 'builtins-path-filter') assert.equal(calls, ['/B', '/a.txt', '/bin', '/bin/run', '/link']);
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
