// What adding a small file costs on disk (the fast path of addTextToStore / addToStore, counted
// by wrapping node:fs, not timed): per new path exactly one file is created (its temporary
// name in the store dir, renamed into place), no directory is made or removed, the lock is a
// link (no lock file created per path), and the temp-roots file is opened once per handle. Also
// the leftovers the rename meets at the final location: a file is replaced, a directory removed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs, { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local-store.js';
import { makeTextPath } from '../../src/derivation/store-path.js';
import { cleanup, tempDir } from './fixtures.js';

const test = suite('store/add-cost');
test.after(cleanup);

type Counts = Record<'create' | 'mkdir' | 'rmdir' | 'rename' | 'link' | 'openTempRoots', number>;

/** Runs `fn` with node:fs wrapped, counting operations on paths under `root`. */
function counting(root: string, fn: () => void): Counts {
  const n: Counts = { create: 0, mkdir: 0, rmdir: 0, rename: 0, link: 0, openTempRoots: 0 };
  const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['openSync', 'mkdirSync', 'rmdirSync', 'rmSync', 'renameSync', 'linkSync'] as const;
  const saved = Object.fromEntries(names.map((k) => [k, f[k]!])) as Record<(typeof names)[number], (...a: unknown[]) => unknown>;
  const under = (p: unknown): boolean => String(p).startsWith(root);
  f.openSync = (p, flags, ...rest) => {
    if (under(p) && String(flags).includes('x')) n.create++;
    if (under(p) && String(p).includes('/temproots/')) n.openTempRoots++;
    return saved.openSync(p, flags, ...rest);
  };
  f.mkdirSync = (p, ...rest) => (under(p) && n.mkdir++, saved.mkdirSync(p, ...rest));
  f.rmdirSync = (p, ...rest) => (under(p) && n.rmdir++, saved.rmdirSync(p, ...rest));
  f.rmSync = (p, ...rest) => (under(p) && n.rmdir++, saved.rmSync(p, ...rest));
  f.renameSync = (a, b) => (under(b) && n.rename++, saved.renameSync(a, b));
  f.linkSync = (a, b) => (under(b) && n.link++, saved.linkSync(a, b));
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    Object.assign(f, saved);
    syncBuiltinESMExports();
  }
  return n;
}

test('adding N text files: N files created and renamed, N lock links, no directory made or removed', () => {
  const d = tempDir('add-cost');
  const root = join(d, 'store');
  const store = LocalStore.open({ root });
  const N = 50;
  const c = counting(root, () => {
    // The first lock in the store dir creates this process's owner file: one more create.
    for (let i = 0; i < N; i++) store.addTextToStore(`t-${i}`, `text ${i}\n`);
    // Already valid: nothing written.
    for (let i = 0; i < N; i++) store.addTextToStore(`t-${i}`, `text ${i}\n`);
  });
  try {
    assert.equal(c, { create: N + 1, mkdir: 0, rmdir: 0, rename: N, link: N, openTempRoots: 1 });
    const p = makeTextPath('t-7', 'text 7\n');
    assert.is(readFileSync(store.toPhysical(p), 'latin1'), 'text 7\n');
    const st = statSync(store.toPhysical(p));
    assert.is(st.mode & 0o777, 0o444);
    assert.is(st.mtimeMs, 1000);
    assert.equal(store.verify().problems, []);
    assert.equal(readdirSync(store.realStoreDir).filter((n) => n.startsWith('.imgeval-tmp-')), []);
  } finally {
    store.close();
  }
});

test('an unregistered leftover at a text path is replaced: a file by the rename, a directory removed first', () => {
  const d = tempDir('add-leftover');
  const store = LocalStore.open({ root: join(d, 'store') });
  try {
    const a = makeTextPath('a', 'A');
    const b = makeTextPath('b', 'B');
    writeFileSync(store.toPhysical(a), 'partial');
    mkdirSync(join(store.toPhysical(b), 'sub'), { recursive: true });
    writeFileSync(join(store.toPhysical(b), 'sub', 'f'), 'x');
    fs.chmodSync(join(store.toPhysical(b), 'sub'), 0o555);
    assert.is(store.addTextToStore('a', 'A'), a);
    assert.is(store.addTextToStore('b', 'B'), b);
    assert.is(readFileSync(store.toPhysical(a), 'latin1'), 'A');
    assert.is(readFileSync(store.toPhysical(b), 'latin1'), 'B');
    assert.equal(store.verify().problems, []);
  } finally {
    store.close();
  }
});

test.run();
