// Two processes on one store: adding the same path at once registers it once (both get the same
// path, and ValidPaths' autoincrement sequence shows a single insert); a path lock held by one
// process makes the other wait (synchronously and asynchronously) until it is released; the lock
// of a process killed with SIGKILL is stale and taken over at once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local-store.js';
import { needTool } from '../helpers/tools.js';
import { bigTree, cleanup, sqlite, startChild, tempDir } from './fixtures.js';

const test = suite('store/concurrency');
test.after(cleanup);

test('two processes adding the same tree register it once', async () => {
  const d = tempDir('conc');
  const src = bigTree(join(d, 'src'), { dirs: 6, filesPerDir: 20, bigMiB: 4 });
  const root = join(d, 'store');
  LocalStore.open({ root }).close();
  const a = startChild(['add', root, src]);
  const b = startChild(['add', root, src]);
  const [la, lb] = await Promise.all([a.line('done '), b.line('done ')]);
  assert.equal(await Promise.all([a.exited, b.exited]), [0, 0]);
  const pa = la.split(' ')[1]!;
  assert.is(lb.split(' ')[1], pa);
  const store = LocalStore.open({ root });
  try {
    assert.equal(store.queryAllValidPaths(), [pa]);
    assert.equal(store.verify().problems, []);
  } finally {
    store.close();
  }
  if (needTool('registration count', 'sqlite3')) {
    assert.is(sqlite(join(root, 'nix/var/nix/db/db.sqlite'), `select seq from sqlite_sequence where name = 'ValidPaths'`), '1');
  }
});

test('a path lock held by another process makes lockPaths and lockPathsAsync wait', async () => {
  const d = tempDir('lock');
  const root = join(d, 'store');
  const store = LocalStore.open({ root });
  const p = '/nix/store/00000000000000000000000000000000-out';
  try {
    for (const mode of ['sync', 'async'] as const) {
      const c = startChild(['hold', root, p, '700']);
      await c.line('locked');
      const t0 = Date.now();
      let waited = false;
      const s2 = LocalStore.open({ root, onLockWait: () => (waited = true) });
      const locks = mode === 'sync' ? s2.lockPaths([p]) : await s2.lockPathsAsync([p]);
      const dt = Date.now() - t0;
      locks.release();
      s2.close();
      assert.ok(waited, `${mode}: onLockWait was called`);
      assert.ok(dt >= 300, `${mode}: waited only ${dt} ms for a lock held 700 ms`);
      assert.is(await c.exited, 0);
    }
    // The lock of a killed process is stale: taken over without waiting for anything.
    const c = startChild(['hold', root, p, '60000']);
    await c.line('locked');
    c.proc.kill('SIGKILL');
    await c.exited;
    const t0 = Date.now();
    store.lockPaths([p]).release();
    assert.ok(Date.now() - t0 < 1000, 'a dead holder does not block');
  } finally {
    store.close();
  }
});

test('locks within one process: async waiters queue, a sync re-lock is a bug', async () => {
  const d = tempDir('lock-self');
  const store = LocalStore.open({ root: join(d, 'store') });
  const p = '/nix/store/00000000000000000000000000000000-x';
  try {
    const first = await store.lockPathsAsync([p]);
    let second = false;
    const pending = store.lockPathsAsync([p]).then((l) => {
      second = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.not.ok(second, 'the second waiter waits');
    assert.throws(() => store.lockPaths([p]), /already holds the lock/);
    first.release();
    (await pending).release();
    assert.ok(second);
  } finally {
    store.close();
  }
});

test.run();
