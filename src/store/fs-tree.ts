// store/fs-tree: file-tree operations the store does on its own disk: an FsReader that copies
// what it reads (so one pass over a source both archives/hashes it and writes the copy), an
// FsReader that hides entries a filter rejects (builtins.path / filterSource), Nix's metadata
// canonicalisation (files 0444/0555, dirs 0555, mtime 1), and deleting a read-only tree while
// counting the bytes freed. Never computes hashes and never touches the database.

import {
  chmodSync,
  closeSync,
  futimesSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import type { FsEntryType, FsReader } from '../derivation/nar.js';

/** A path as the node:fs reader takes it (a Buffer survives names that are not UTF-8). */
export type FsPath = string | Buffer;

/** The mtime Nix gives every store file (1970-01-01T00:00:01Z). */
export const CANONICAL_MTIME = 1;

function asBuffer(p: FsPath): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/** The type names Nix passes to a path filter. */
export type FilterType = 'regular' | 'directory' | 'symlink' | 'unknown';

/**
 * A path filter (builtins.path's `filter`, filterSource): gets the entry's full path as a byte
 * string (latin1: one char per byte, the way Nix strings are held) and its type; false drops the
 * entry (and, for a directory, everything below it). The root itself is never filtered.
 */
export type PathFilter = (path: string, type: FilterType) => boolean;

/** Wraps a reader so that directory listings leave out the entries `filter` rejects. */
export function filteredReader(inner: FsReader<FsPath>, filter: PathFilter): FsReader<FsPath> {
  return {
    ...inner,
    readdir(path) {
      return inner.readdir(path).filter((name) => {
        const child = inner.join(path, name);
        const t: FsEntryType = inner.lstat(child).type;
        return filter(asBuffer(child).toString('latin1'), t === 'other' ? 'unknown' : t);
      });
    },
  };
}

/**
 * A reader over the tree at `srcRoot` that, as `writeNar` walks it, recreates it under `destRoot`
 * (which must not exist) with canonical metadata. Call `finish()` after the walk to make the
 * directories read-only (bottom-up). Every file is read once: the bytes go to the archive sink
 * and to the copy.
 */
export function copyingReader(inner: FsReader<FsPath>, srcRoot: FsPath, destRoot: string): FsReader<FsPath> & { finish(): void } {
  const src = asBuffer(srcRoot);
  const dst = Buffer.from(destRoot, 'utf8');
  const dirs: Buffer[] = [];
  let lastStat: { key: Buffer; executable: boolean } | undefined;
  const destOf = (p: FsPath): Buffer => {
    const b = asBuffer(p);
    return b.length === src.length ? dst : Buffer.concat([dst, b.subarray(src.length)]);
  };
  return {
    lstat(path) {
      const st = inner.lstat(path);
      lastStat = { key: asBuffer(path), executable: st.executable };
      return st;
    },
    readdir(path) {
      const names = inner.readdir(path);
      const d = destOf(path);
      mkdirSync(d, { mode: 0o755 });
      dirs.push(d);
      return names;
    },
    readlink(path) {
      const target = inner.readlink(path);
      const d = destOf(path);
      symlinkSync(target, d);
      lutimesSync(d, CANONICAL_MTIME, CANONICAL_MTIME);
      return target;
    },
    readFile(path, onChunk) {
      const key = asBuffer(path);
      const exec = lastStat !== undefined && lastStat.key.equals(key) ? lastStat.executable : (inner.lstat(path).executable);
      const fd = openSync(destOf(path), 'wx', exec ? 0o555 : 0o444);
      try {
        inner.readFile(path, (chunk) => {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          onChunk(chunk);
        });
        futimesSync(fd, CANONICAL_MTIME, CANONICAL_MTIME);
      } finally {
        closeSync(fd);
      }
    },
    join: inner.join,
    finish() {
      for (let i = dirs.length - 1; i >= 0; i--) {
        chmodSync(dirs[i]!, 0o555);
        utimesSync(dirs[i]!, CANONICAL_MTIME, CANONICAL_MTIME);
      }
    },
  };
}

/**
 * Nix's canonicalisePathMetaData for a tree written in place (a builder's output): regular files
 * 0444, or 0555 when owner-executable; directories 0555; mtime 1 on everything (symlinks via
 * lutimes); children before their directory.
 */
export function canonicaliseTree(path: FsPath): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    if (st.mtimeMs !== CANONICAL_MTIME * 1000) lutimesSync(path, CANONICAL_MTIME, CANONICAL_MTIME);
    return;
  }
  if (st.isDirectory()) {
    // Writable while we work inside it (a builder may have left it read-only).
    if ((st.mode & 0o700) !== 0o700) chmodSync(path, 0o755);
    const base = asBuffer(path);
    for (const name of readdirSync(path, { encoding: 'buffer' })) {
      canonicaliseTree(Buffer.concat([base, Buffer.from('/'), name]));
    }
    chmodSync(path, 0o555);
  } else {
    const mode = st.mode & 0o7777;
    if (mode !== 0o444 && mode !== 0o555) chmodSync(path, st.mode & 0o100 ? 0o555 : 0o444);
  }
  if (st.mtimeMs !== CANONICAL_MTIME * 1000 || st.isDirectory()) utimesSync(path, CANONICAL_MTIME, CANONICAL_MTIME);
}

/** Bytes a tree occupies, as Nix counts freed space: sizes of files with one link, and symlinks. */
export function treeBytes(path: FsPath): number {
  const st = lstatSync(path);
  if (st.isDirectory()) {
    let n = 0;
    const base = asBuffer(path);
    for (const name of readdirSync(path, { encoding: 'buffer' })) n += treeBytes(Buffer.concat([base, Buffer.from('/'), name]));
    return n;
  }
  return st.nlink === 1 || st.isSymbolicLink() ? st.size : 0;
}

/** Makes every directory of a tree writable so that it can be removed. */
function makeWritable(path: FsPath): void {
  const st = lstatSync(path);
  if (!st.isDirectory()) return;
  if ((st.mode & 0o700) !== 0o700) chmodSync(path, 0o755);
  const base = asBuffer(path);
  for (const e of readdirSync(path, { encoding: 'buffer', withFileTypes: true })) {
    if (e.isDirectory()) makeWritable(Buffer.concat([base, Buffer.from('/'), e.name as unknown as Buffer]));
  }
}

/** Removes a tree (read-only directories included). Missing is fine. */
export function deleteTree(path: FsPath): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    if ((e as { code?: string }).code !== 'EACCES' && (e as { code?: string }).code !== 'EPERM') throw e;
    makeWritable(path);
    rmSync(path, { recursive: true, force: true });
  }
}
