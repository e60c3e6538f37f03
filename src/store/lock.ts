// store/lock: inter-process locks for a single machine, from lock files (Node has no flock).
// A lock is a file created atomically, holding the owner's pid and process start time: the
// process writes that once per directory into a private "owner file" with a short name,
// `.imgeval-lock-<pid>_<start>-<n>`, and each lock is a hard link of it to the lock name (which
// fails when the name exists). So taking a lock creates no inode, and the private name never
// grows with the lock's name (`<store path>.lock` works up to Nix's 211-character names). Owner
// files are removed at exit; a dead process's ones by removeStaleLocks / the store's cleanup. A lock
// whose owner is dead (or whose pid was reused by another process) is stale and is broken,
// under a short-lived "breaker" lock so two waiters never both break it. Waiting polls with
// backoff, synchronously (Atomics.wait) or asynchronously (timers). Also: liveness of a pid, used
// for temp dirs and temp roots. Never knows what the lock protects.

import { closeSync, existsSync, fstatSync, linkSync, lstatSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ImgError } from '../base/error.js';

/** Identity of this process as written into lock files: `<pid> <start time>`. */
export const SELF_ID = `${process.pid} ${processStartTime(process.pid) ?? 0}`;

/**
 * Locks held by this process (lock file path → inode of the owner file it links), so it never
 * waits on itself, and releases a lock file only while it is still its own.
 */
const heldHere = new Map<string, bigint>();

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or undefined. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

/** True when the process written as `<pid> <start>` (see SELF_ID) is still running. */
export function ownerAlive(owner: string): boolean {
  const [p, s] = owner.trim().split(' ');
  const pid = Number(p);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EPERM') return false;
  }
  const start = Number(s);
  if (!start) return true;
  const now = processStartTime(pid);
  return now === undefined || now === start;
}

/** Sleeps synchronously (the event loop is blocked; used only where the caller is synchronous). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readOwner(lockPath: string): string | undefined {
  try {
    return readFileSync(lockPath, 'latin1');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
}

let counter = 0;

/** Prefix of the owner files (see the file comment). */
const TEMP_PREFIX = '.imgeval-lock-';
const TEMP_NAME = /^\.imgeval-lock-(\d+)_(\d+)-\d+$/;

/** This process's current owner file per directory, and every one it made (removed at exit). */
const ownerFiles = new Map<string, { path: string; ino: bigint }>();
const ownerFilesMade: string[] = [];
let exitHookInstalled = false;
/** Locks this process holds, per directory. */
const heldInDir = new Map<string, number>();

/**
 * Removes this process's owner files in `dir` when it holds no lock there (a store handle calls
 * it when closed, so a closed store keeps no file of this process).
 */
export function dropOwnerFiles(dir: string): void {
  if ((heldInDir.get(dir) ?? 0) > 0) return;
  ownerFiles.delete(dir);
  const prefix = `${dir}/`;
  for (let i = ownerFilesMade.length - 1; i >= 0; i--) {
    const f = ownerFilesMade[i]!;
    if (f.startsWith(prefix) && !f.includes('/', prefix.length)) {
      ownerFilesMade.splice(i, 1);
      try {
        unlinkSync(f);
      } catch {
        /* gone */
      }
    }
  }
}

function removeOwnerFiles(): void {
  for (const f of ownerFilesMade.splice(0)) {
    try {
      unlinkSync(f);
    } catch {
      /* gone */
    }
  }
  ownerFiles.clear();
}

/** The owner file of this process in `dir` (created, holding SELF_ID, when there is none yet). */
function ownerFileIn(dir: string): { path: string; ino: bigint } {
  let f = ownerFiles.get(dir);
  if (f === undefined) {
    const path = `${dir}/${TEMP_PREFIX}${SELF_ID.replace(' ', '_')}-${counter++}`;
    const fd = openSync(path, 'wx', 0o600);
    let ino: bigint;
    try {
      writeSync(fd, SELF_ID);
      ino = fstatSync(fd, { bigint: true }).ino;
    } catch (e) {
      closeSync(fd);
      unlinkSync(path);
      throw e;
    }
    closeSync(fd);
    if (!exitHookInstalled) {
      process.on('exit', removeOwnerFiles);
      exitHookInstalled = true;
    }
    ownerFilesMade.push(path);
    f = { path, ino };
    ownerFiles.set(dir, f);
  }
  return f;
}

/** One attempt to create the lock file holding SELF_ID: the inode it links, or undefined when taken. */
function createLockFile(lockPath: string): bigint | undefined {
  const dir = dirname(lockPath);
  for (let attempt = 0; ; attempt++) {
    const owner = ownerFileIn(dir);
    try {
      linkSync(owner.path, lockPath);
      return owner.ino;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EEXIST') return undefined;
      // The owner file was removed (by hand, or its directory recreated), or has the most
      // links the file system allows: use a fresh one.
      if ((code === 'ENOENT' || code === 'EMLINK') && attempt === 0) {
        ownerFiles.delete(dir);
        continue;
      }
      throw e;
    }
  }
}

/**
 * Removes `lockPath` if it still holds the dead owner `owner`, under `<lockPath>.break` so that a
 * second waiter cannot remove a lock a third process has just created in its place.
 */
function breakStale(lockPath: string, owner: string): void {
  const breaker = `${lockPath}.break`;
  if (createLockFile(breaker) === undefined) {
    const b = readOwner(breaker);
    // A breaker left by a process killed while breaking: drop it (the window is tiny).
    if (b !== undefined && !ownerAlive(b)) {
      try {
        unlinkSync(breaker);
      } catch {
        /* someone else did */
      }
    }
    return;
  }
  try {
    if (readOwner(lockPath) === owner) unlinkSync(lockPath);
  } finally {
    unlinkSync(breaker);
  }
}

/** One non-blocking attempt to take a lock, breaking it when stale. */
export function tryLock(lockPath: string): boolean {
  if (heldHere.has(lockPath)) return false;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ino = createLockFile(lockPath);
    if (ino !== undefined) {
      heldHere.set(lockPath, ino);
      const dir = dirname(lockPath);
      heldInDir.set(dir, (heldInDir.get(dir) ?? 0) + 1);
      return true;
    }
    const owner = readOwner(lockPath);
    if (owner === undefined) continue; // released meanwhile: try again
    if (ownerAlive(owner)) return false;
    breakStale(lockPath, owner);
  }
  return false;
}

export interface LockWaitOptions {
  /** Called once when the lock is busy and we start waiting (e.g. to print "waiting for lock …"). */
  onWait?: (lockPath: string) => void;
  /** Give up (ImgError E_STORE) after this many milliseconds; default: wait forever. */
  timeoutMs?: number;
}

function busyError(lockPath: string): ImgError {
  return new ImgError('E_STORE', `timed out waiting for the lock '${lockPath}'`);
}

/** Takes a lock, waiting (synchronously) while another live process holds it. */
export function lockSync(lockPath: string, opts: LockWaitOptions = {}): FileLock {
  if (heldHere.has(lockPath)) {
    throw new Error(`internal error: this process already holds the lock '${lockPath}'`);
  }
  const t0 = Date.now();
  let delay = 5;
  let told = false;
  while (!tryLock(lockPath)) {
    if (!told) {
      opts.onWait?.(lockPath);
      told = true;
    }
    if (opts.timeoutMs !== undefined && Date.now() - t0 > opts.timeoutMs) throw busyError(lockPath);
    sleepSync(delay);
    delay = Math.min(delay * 2, 100);
  }
  return new FileLock(lockPath);
}

/** Takes a lock, waiting (asynchronously) while another process, or this one, holds it. */
export async function lockAsync(lockPath: string, opts: LockWaitOptions = {}): Promise<FileLock> {
  const t0 = Date.now();
  let delay = 5;
  let told = false;
  while (!tryLock(lockPath)) {
    if (!told) {
      opts.onWait?.(lockPath);
      told = true;
    }
    if (opts.timeoutMs !== undefined && Date.now() - t0 > opts.timeoutMs) throw busyError(lockPath);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  return new FileLock(lockPath);
}

/** True when a live process (this one included) holds the lock. */
export function isLocked(lockPath: string): boolean {
  if (heldHere.has(lockPath)) return true;
  if (!existsSync(lockPath)) return false; // (cheaper than a failed read)
  const owner = readOwner(lockPath);
  return owner !== undefined && ownerAlive(owner);
}

export class FileLock {
  private held = true;
  constructor(readonly lockPath: string) {}

  release(): void {
    if (!this.held) return;
    this.held = false;
    const ino = heldHere.get(this.lockPath);
    if (ino === undefined) return;
    heldHere.delete(this.lockPath);
    const dir = dirname(this.lockPath);
    heldInDir.set(dir, (heldInDir.get(dir) ?? 1) - 1);
    try {
      // Still our own link (one lstat; nobody breaks a live owner's lock, but never remove another's).
      if (lstatSync(this.lockPath, { bigint: true }).ino === ino) unlinkSync(this.lockPath);
    } catch {
      /* already gone */
    }
  }
}

/** Removes stale lock files (`*.lock` of dead owners) and dead processes' owner files in a directory. */
export function removeStaleLocks(dir: string): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const p = `${dir}/${name}`;
    if (name.endsWith('.lock') || name.endsWith('.lock.break')) {
      const owner = readOwner(p);
      if (owner !== undefined && !ownerAlive(owner) && !heldHere.has(p)) {
        breakStale(p, owner);
        n++;
      }
    } else {
      const m = TEMP_NAME.exec(name);
      if (m && !ownerAlive(`${m[1]} ${m[2]}`)) {
        try {
          unlinkSync(p);
          n++;
        } catch {
          /* gone */
        }
      }
    }
  }
  return n;
}
