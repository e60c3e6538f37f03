// Garbage collection: rooted closures (direct, indirect `result`-style roots, temp roots of live
// processes, derivers kept as keep-derivations) survive; everything else goes, unregistered
// leftovers included; dry runs change nothing; stale auto roots are dropped; `delete` refuses a
// live path; after a collection Nix still finds the store consistent.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local-store.js';
import { isImgError } from '../../src/base/error.js';
import { needTool } from '../helpers/tools.js';
import { cleanup, copyTree, nixIn, sampleTree, tempDir, writeFile } from './fixtures.js';

const test = suite('store/gc');
test.after(cleanup);

/** Fills a store; returns a fresh handle (the filling one's temp roots are gone with it). */
function populate(d: string) {
  let store = LocalStore.open({ root: join(d, 'store') });
  const tree = store.addToStore(sampleTree(join(d, 'tree')));
  const lib = store.addTextToStore('lib', `lib uses ${tree}`, [tree]);
  const app = store.addTextToStore('app', `app uses ${lib}`, [lib]);
  const other = store.addTextToStore('other', 'unrelated');
  const otherUser = store.addTextToStore('other-user', `uses ${other}`, [other]);
  // An output "built" by fake.drv (registered with its deriver, as the builder does).
  const built = '/nix/store/0000000000000000000000000000000b-built';
  const drv = store.addTextToStore('fake.drv', `Derive([("out","${built}","","")],[],[],"x","y",[],[("out","${built}")])`);
  const locks = store.lockPaths([built]);
  writeFileSync(store.toPhysical(built), 'built by fake.drv');
  store.registerValidPaths([store.makeOutputInfo(built, { candidates: [], deriver: drv })]);
  locks.release();
  store.close();
  store = LocalStore.open({ root: join(d, 'store') });
  return { store, tree, lib, app, other, otherUser, drv, built };
}

test('gc keeps rooted closures and derivers, deletes the rest and reports bytes freed', () => {
  const d = tempDir('gc');
  const { store, tree, lib, app, other, otherUser, drv, built } = populate(d);
  try {
    // `result`-style indirect root to app; a direct root to `built`.
    const link = store.addPermRoot(app, join(d, 'result'));
    symlinkSync(store.toPhysical(built), join(store.layout.gcRootsDir, 'built-root'));
    assert.equal(store.findRoots(), new Map([[link, app], [join(store.layout.gcRootsDir, 'built-root'), built]]));
    // An unregistered leftover (a crashed build's output) is garbage too.
    const leftover = '/nix/store/0000000000000000000000000000000a-leftover';
    mkdirSync(store.toPhysical(leftover));
    writeFileSync(store.toPhysical(leftover) + '/f', 'x'.repeat(1000));

    const dry = store.collectGarbage({ dryRun: true });
    assert.equal(dry.deleted, [other, otherUser].sort());
    assert.equal(dry.deletedInvalid, [leftover]);
    assert.ok(existsSync(store.toPhysical(other)) && existsSync(store.toPhysical(leftover)), 'dry run deletes nothing');
    assert.ok(store.isValidPath(other));

    const r = store.collectGarbage();
    assert.equal(r.deleted, [other, otherUser].sort());
    assert.is(r.bytesFreed, dry.bytesFreed);
    assert.is(r.bytesFreed, 'unrelated'.length + `uses ${other}`.length + 1000);
    for (const p of [other, otherUser, leftover]) assert.not.ok(existsSync(store.toPhysical(p)), p);
    for (const p of [tree, lib, app, built, drv]) assert.ok(store.isValidPath(p) && existsSync(store.toPhysical(p)), p);
    assert.equal(store.verify().problems, []);

    // Removing the result link makes its closure garbage and drops the stale auto root.
    unlinkSync(link);
    const r2 = store.collectGarbage();
    assert.equal(r2.deleted, [tree, lib, app].sort());
    assert.equal(readdirSync(join(store.layout.gcRootsDir, 'auto')), []);
    assert.ok(store.isValidPath(built) && store.isValidPath(drv));
  } finally {
    store.close();
  }
  if (needTool('gc result vs Nix', 'nix-store')) {
    // (nix-db-check cannot take .drv paths: its `nix store dump-path` would build them.)
    copyTree(join(d, 'store'), join(d, 'copy'));
    assert.is(nixIn(join(d, 'copy'), 'nix-store', ['--verify', '--check-contents']), '');
    const built = '/nix/store/0000000000000000000000000000000b-built';
    const drv = nixIn(join(d, 'copy'), 'nix-store', ['-q', '--deriver', built]).trim();
    assert.is(nixIn(join(d, 'copy'), 'nix-store', ['-q', '--outputs', drv]).trim(), built);
  }
});

test('temp roots of a live process protect paths; delete refuses live paths', () => {
  const d = tempDir('gc-temp');
  const { store, app, lib, other, otherUser } = populate(d);
  try {
    // Paths a handle added are temp roots while it is open: nothing of them is collected.
    const held = LocalStore.open({ root: join(d, 'store') });
    const y = held.addTextToStore('y', 'y');
    assert.ok(held.addToStore(join(d, 'tree')) !== '');
    const dead = store.collectGarbage({ dryRun: true }).deleted;
    assert.not.ok(dead.includes(y));
    held.close();
    assert.ok(store.collectGarbage({ dryRun: true }).deleted.includes(y));
    store.close();
    const fresh = LocalStore.open({ root: join(d, 'store') });
    try {
      const msg = (f: () => unknown): string => {
        try {
          f();
        } catch (e) {
          assert.ok(isImgError(e), String(e));
          return (e as Error).message;
        }
        return '';
      };
      fresh.addPermRoot(app, join(d, 'result'));
      assert.match(msg(() => fresh.deletePath(lib)), `cannot delete path '${lib}' since it is still alive`);
      assert.match(msg(() => fresh.deletePath(other)), `since it is still referenced by '${otherUser}'`);
      assert.ok(fresh.deletePath(otherUser) > 0);
      assert.ok(fresh.deletePath(other) > 0);
      assert.not.ok(fresh.isValidPath(other));
      // A temp root taken by this handle protects a path from its own collection.
      const x = fresh.addTextToStore('x', 'x');
      assert.not.ok(fresh.collectGarbage().deleted.includes(x));
    } finally {
      fresh.close();
    }
  } finally {
    store.close();
  }
});

test('roots may name the logical path, a file below a store path, or a regular file named like a path', () => {
  const d = tempDir('gc-roots');
  const store = LocalStore.open({ root: join(d, 'store') });
  try {
    const t = store.addToStore(sampleTree(join(d, 'tree')));
    const a = store.addTextToStore('a', 'a');
    const b = store.addTextToStore('b', 'b');
    mkdirSync(join(store.layout.gcRootsDir, 'nested'), { recursive: true });
    symlinkSync(`${t}/bin/hi`, join(store.layout.gcRootsDir, 'nested', 'logical'));
    symlinkSync(store.toPhysical(a), join(store.layout.gcRootsDir, 'physical'));
    writeFile(join(store.layout.gcRootsDir, b.slice('/nix/store/'.length)), '');
    assert.equal([...store.findRoots().values()].sort(), [t, a, b].sort());
  } finally {
    store.close();
  }
});

test.run();
