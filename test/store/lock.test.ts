// Lock files: a store path whose name has Nix's maximum length (211) can be locked, added and
// have a stale lock broken (the private temp names stay short, NAME_MAX is 255); the temp files
// of dead processes are removed, those of live ones kept; locks exclude each other.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local-store.js';
import { SELF_ID, isLocked, lockSync, removeStaleLocks, tryLock } from '../../src/store/lock.js';
import { cleanup, tempDir } from './fixtures.js';

const test = suite('store/lock');
test.after(cleanup);

/** Nix's maximum store path name length. */
const MAX_NAME = 211;
const DEAD_OWNER = '2147483646 1';

test('a store path with a 211-character name is added (its .lock and temp names fit NAME_MAX)', () => {
  const d = tempDir('lock-long');
  const store = LocalStore.open({ root: join(d, 'store') });
  try {
    const name = 'n'.repeat(MAX_NAME);
    const p = store.addTextToStore(name, 'long name\n');
    assert.ok(store.isValidPath(p));
    assert.is(p.length - '/nix/store/'.length, 32 + 1 + MAX_NAME);
    const left = readdirSync(store.realStoreDir).filter((n) => n.includes('lock'));
    assert.equal(left, [], 'no lock or temp file is left behind');
    // The longest lock names (`.lock` and `.lock.break`) are at most 255 bytes.
    assert.ok(`${p.slice('/nix/store/'.length)}.lock.break`.length <= 255);
  } finally {
    store.close();
  }
});

test('a stale lock on a 211-character name is broken and taken', () => {
  const d = tempDir('lock-stale');
  const lockPath = join(d, `${'a'.repeat(32)}-${'n'.repeat(MAX_NAME)}.lock`);
  writeFileSync(lockPath, DEAD_OWNER);
  assert.not.ok(isLocked(lockPath));
  const l = lockSync(lockPath, { timeoutMs: 5000 });
  assert.is(String(readdirSync(d)), `${'a'.repeat(32)}-${'n'.repeat(MAX_NAME)}.lock`);
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
    assert.equal(readdirSync(d).sort(), ['.imgeval-lock-notours', `.imgeval-lock-${SELF_ID.replace(' ', '_')}-999999`, `${'c'.repeat(32)}-y.lock`].sort());
  } finally {
    held.release();
  }
});

test.run();
