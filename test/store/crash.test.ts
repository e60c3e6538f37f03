// Crash safety: a child process adding a large tree is killed with SIGKILL at random moments,
// several times; after each kill the store still verifies (no registered path is incomplete,
// leftovers are ignored and cleaned when the store is next opened), and the same add then
// completes with the path an uninterrupted add gives; likewise for killed garbage collections.
// Real Nix agrees at the end. Also the
// states a kill can leave that random timing rarely hits: an unregistered complete or partial
// copy at the final location, and a lock file of a dead process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local-store.js';
import { SELF_ID } from '../../src/store/lock.js';
import { needTool } from '../helpers/tools.js';
import { bigTree, cleanup, copyTree, nixIn, noise, sampleTree, startChild, tempDir } from './fixtures.js';

const test = suite('store/crash');
test.after(cleanup);

/** Entries other than this (live) test process's lock owner file, which an open store may hold. */
const notOurs = (names: string[]): string[] => names.filter((n) => !n.startsWith(`.imgeval-lock-${SELF_ID.replace(' ', '_')}-`));

/** Deterministic "random" delays (a fixed LCG), so a failure can be replayed. */
function delays(n: number, max: number): number[] {
  let x = 12345;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(Math.round((x / 2 ** 32) * max));
  }
  return out;
}

test('kill -9 during addToStore at random moments leaves a store that verifies and accepts the add', async () => {
  const d = tempDir('crash');
  const src = bigTree(join(d, 'src'), { dirs: 10, filesPerDir: 15, bigMiB: 5 });
  const root = join(d, 'store');
  // Calibrate: how long one add takes here (in a scratch store), and its path.
  const cal = startChild(['add', join(d, 'scratch'), src]);
  const [, expected, msText] = (await cal.line('done ')).split(' ');
  await cal.exited;
  const ms = Number(msText);
  console.log(`  (one add of the test tree takes ${ms} ms here)`);

  // A valid path that must survive everything.
  const keep = LocalStore.open({ root });
  const kept = keep.addTextToStore('kept', 'kept');
  keep.close();

  let interrupted = 0;
  for (const delay of delays(5, ms * 1.1)) {
    const c = startChild(['add', root, src]);
    await c.line('start');
    await new Promise((r) => setTimeout(r, delay));
    c.proc.kill('SIGKILL');
    const code = await c.exited;
    if (code === null) interrupted++;
    const store = LocalStore.open({ root });
    try {
      const r = store.verify();
      assert.equal(r.problems, [], `after a kill at ${delay} ms`);
      assert.ok(store.isValidPath(kept));
      // Opening removed the dead child's temporary entries and lock owner file.
      assert.equal(notOurs(readdirSync(store.realStoreDir)).filter((n) => n.startsWith('.imgeval-')), []);
      if (store.isValidPath(expected!)) store.deletePath(expected!);
    } finally {
      store.close();
    }
  }
  assert.ok(interrupted >= 3, `only ${interrupted} of 5 kills interrupted the add (add takes ${ms} ms)`);

  let store = LocalStore.open({ root });
  try {
    assert.is(store.addToStore(src), expected);
    assert.equal(store.verify().problems, []);
  } finally {
    store.close();
  }
  // Kill garbage collections too (nothing is rooted: the added tree is garbage).
  for (const delay of delays(2, 150)) {
    const c = startChild(['gc', root]);
    await c.line('start');
    await new Promise((r) => setTimeout(r, delay));
    c.proc.kill('SIGKILL');
    await c.exited;
    store = LocalStore.open({ root });
    try {
      assert.equal(store.verify().problems, [], `after killing a gc at ${delay} ms`);
    } finally {
      store.close();
    }
  }
  store = LocalStore.open({ root });
  try {
    store.collectGarbage();
    assert.equal(store.queryAllValidPaths(), []);
    assert.equal(notOurs(readdirSync(store.realStoreDir)).filter((n) => n !== '.links'), []);
    assert.is(store.addToStore(src), expected);
    assert.equal(store.verify().problems, []);
  } finally {
    store.close();
  }
  if (needTool('crash test result vs Nix', 'nix-store')) {
    copyTree(root, join(d, 'copy'));
    assert.is(nixIn(join(d, 'copy'), 'nix-store', ['--verify', '--check-contents']), '');
    assert.is(nixIn(join(d, 'nixstore'), 'nix-store', ['--add', src]).trim(), expected);
    assert.is(nixIn(join(d, 'copy'), 'nix-store', ['-q', '--hash', expected!]), nixIn(join(d, 'nixstore'), 'nix-store', ['-q', '--hash', expected!]));
  }
});

test('an unregistered copy at the final location (killed after the rename) is replaced', () => {
  const d = tempDir('leftover');
  const src = sampleTree(join(d, 'src'));
  const probe = LocalStore.open({ root: join(d, 'probe') });
  const path = probe.addToStore(src);
  probe.close();
  const store = LocalStore.open({ root: join(d, 'store') });
  try {
    // Partial garbage where the path goes, plus a stale lock of a dead process.
    mkdirSync(store.toPhysical(path) + '/bin', { recursive: true });
    writeFileSync(store.toPhysical(path) + '/bin/half-written', noise(100, 1));
    writeFileSync(store.toPhysical(path) + '.lock', '999999999 1');
    assert.not.ok(store.isValidPath(path));
    assert.equal(store.verify().problems, [], 'unregistered leftovers are not checked');
    assert.is(store.addToStore(src), path);
    assert.not.ok(existsSync(store.toPhysical(path) + '/bin/half-written'));
    assert.not.ok(existsSync(store.toPhysical(path) + '.lock'));
    assert.equal(store.verify(), { checked: 1, problems: [] });
  } finally {
    store.close();
  }
});

test.run();
