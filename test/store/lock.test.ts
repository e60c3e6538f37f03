// Lock files: a store path whose name has Nix's maximum length (211) can be locked, added and
// have a stale lock broken (the private owner file names stay short, NAME_MAX is 255); a lock is
// a hard link of the process's owner file; owner files of dead processes are removed (kill -9:
// when the store is next opened), those of live ones kept; a clean exit removes its own.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local-store.js';
import { SELF_ID, isLocked, lockSync, removeStaleLocks, tryLock } from '../../src/store/lock.js';
import { cleanup, startChild, tempDir } from './fixtures.js';

const test = suite('store/lock');
test.after(cleanup);

/** Nix's maximum store path name length. */
const MAX_NAME = 211;
const DEAD_OWNER = '2147483646 1';
/** This process's owner files are named `.imgeval-lock-<pid>_<start>-<n>`. */
const OURS = `.imgeval-lock-${SELF_ID.replace(' ', '_')}-`;
const notOurs = (names: string[]): string[] => names.filter((n) => !n.startsWith(OURS));

test('a store path with a 211-character name is added (its .lock and temp names fit NAME_MAX)', () => {
  const d = tempDir('lock-long');
  const store = LocalStore.open({ root: join(d, 'store') });
  try {
    const name = 'n'.repeat(MAX_NAME);
    const p = store.addTextToStore(name, 'long name\n');
    assert.ok(store.isValidPath(p));
    assert.is(p.length - '/nix/store/'.length, 32 + 1 + MAX_NAME);
    const left = notOurs(readdirSync(store.realStoreDir)).filter((n) => n.includes('lock'));
    assert.equal(left, [], 'no lock or temp file is left behind');
    // The longest lock names (`.lock` and `.lock.break`) are at most 255 bytes.
    assert.ok(`${p.slice('/nix/store/'.length)}.lock.break`.length <= 255);
  } finally {
    store.close();
  }
  assert.equal(readdirSync(store.realStoreDir).filter((n) => n.startsWith('.imgeval-')), [], 'a closed store keeps no owner file');
});

test('a stale lock on a 211-character name is broken and taken', () => {
  const d = tempDir('lock-stale');
  const lockPath = join(d, `${'a'.repeat(32)}-${'n'.repeat(MAX_NAME)}.lock`);
  writeFileSync(lockPath, DEAD_OWNER);
  assert.not.ok(isLocked(lockPath));
  const l = lockSync(lockPath, { timeoutMs: 5000 });
  assert.is(String(notOurs(readdirSync(d))), `${'a'.repeat(32)}-${'n'.repeat(MAX_NAME)}.lock`);
  // The lock is a hard link of this process's owner file in the same directory.
  const owner = readdirSync(d).filter((n) => n.startsWith(OURS));
  assert.is(owner.length, 1);
  assert.is(statSync(join(d, owner[0]!)).ino, statSync(lockPath).ino);
  assert.ok(isLocked(lockPath));
  assert.not.ok(tryLock(lockPath), 'held here: a second attempt fails');
  l.release();
  assert.not.ok(existsSync(lockPath));
});

test('removeStaleLocks removes dead owners\' temp files and locks, keeps live ones', () => {
  const d = tempDir('lock-clean');
  const deadTmp = join(d, '.imgeval-lock-2147483646_1-0');
  const liveTmp = join(d, `.imgeval-lock-${SELF_ID.replace(' ', '_')}-999999`);
  const deadLock = join(d, `${'b'.repeat(32)}-x.lock`);
  const other = join(d, '.imgeval-lock-notours');
  for (const f of [deadTmp, liveTmp, other]) writeFileSync(f, '');
  writeFileSync(deadLock, DEAD_OWNER);
  const held = lockSync(join(d, `${'c'.repeat(32)}-y.lock`));
  try {
    assert.is(removeStaleLocks(d), 2);
    assert.equal(notOurs(readdirSync(d)).sort(), ['.imgeval-lock-notours', `${'c'.repeat(32)}-y.lock`].sort());
    assert.ok(existsSync(liveTmp));
  } finally {
    held.release();
  }
});

test('a child\'s owner files: removed at a clean exit; after kill -9, when the store is opened', async () => {
  const d = tempDir('lock-child');
  const root = join(d, 'store');
  LocalStore.open({ root }).close();
  const storeDir = join(root, 'nix', 'store');
  const path = `/nix/store/${'d'.repeat(32)}-held`;
  const ownerFiles = (): string[] => readdirSync(storeDir).filter((n) => n.startsWith('.imgeval-lock-'));
  const clean = startChild(['hold', root, path, '10']);
  await clean.line('locked');
  assert.is(await clean.exited, 0);
  assert.equal(ownerFiles(), [], 'a clean exit leaves no owner file');
  const killed = startChild(['hold', root, path, '60000']);
  await killed.line('locked');
  assert.is(ownerFiles().length, 1, 'the holder has an owner file');
  killed.proc.kill('SIGKILL');
  await killed.exited;
  assert.is(ownerFiles().length, 1, 'kill -9 leaves it');
  const store = LocalStore.open({ root });
  try {
    assert.equal(ownerFiles(), [], 'opening the store removes a dead process\'s owner file');
    // Its stale lock is broken by the next taker.
    store.lockPaths([path]).release();
  } finally {
    store.close();
  }
});

test.run();
