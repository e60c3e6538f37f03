// Test helpers for test/store: temp dirs that are removed even when read-only, a sample source
// tree (text, executables, symlinks, empty dir and file, a non-UTF-8 name, a file bigger than one
// read chunk, a hard link), and the real-Nix oracles (nix-db-check, sqlite3 .schema).
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteTree } from '../../src/store/fs-tree.js';
import { ORACLES } from '../helpers/tools.js';
import { nixEnv } from '../derivation/nix-env.js';

const made: string[] = [];

export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `imgeval-store-${tag}-`));
  made.push(d);
  return d;
}

export function cleanup(): void {
  for (const d of made.splice(0)) deleteTree(d);
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function noise(n: number, seed: number): Buffer {
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

/** Writes the sample tree at `dir` (which must not exist). */
export function sampleTree(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'share', 'doc', 'deep', 'er'), { recursive: true });
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'B'), 'B');
  writeFileSync(join(dir, 'bin', 'hi'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'bin', 'hi'), 0o755);
  writeFileSync(join(dir, 'bin', 'odd-mode'), 'x');
  chmodSync(join(dir, 'bin', 'odd-mode'), 0o700);
  symlinkSync('hi', join(dir, 'bin', 'alias'));
  symlinkSync('/nonexistent/target', join(dir, 'dangling'));
  writeFileSync(join(dir, 'share', 'a.txt'), 'data');
  writeFileSync(join(dir, 'share', 'doc', 'deep', 'er', 'empty-file'), '');
  writeFileSync(join(dir, 'share', 'big.bin'), noise(3 * 1024 * 1024 + 5, 7));
  linkSync(join(dir, 'share', 'a.txt'), join(dir, 'share', 'hardlink.txt'));
  writeFileSync(Buffer.concat([Buffer.from(join(dir, 'share') + '/name-'), Buffer.from([0xff, 0xfe]), Buffer.from('.bin')]), 'not utf-8 name');
  return dir;
}

/** Runs the shared nix-db-check oracle on a store root; returns its exit status and output. */
export function nixDbCheck(root: string): { ok: boolean; out: string } {
  const r = spawnSync(join(ORACLES, 'nix-db-check'), [root], { env: nixEnv(), encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** `sqlite3 FILE .schema`. */
export function sqliteSchema(file: string): string {
  const r = spawnSync('sqlite3', [file, '.schema'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

export function sqlite(file: string, sql: string): string {
  const r = spawnSync('sqlite3', [file, sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** Runs a Nix tool against a chroot store (`local?root=ROOT`); returns stdout, throws on failure. */
export function nixIn(root: string, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env: nixEnv(root), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function writeFile(path: string, data: string | Buffer, mode = 0o644): string {
  writeFileSync(path, data);
  chmodSync(path, mode);
  return path;
}

/** `cp -a` (node's cpSync cannot copy file names that are not UTF-8). */
export function copyTree(src: string, dst: string): void {
  const r = spawnSync('cp', ['-a', src, dst], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}
