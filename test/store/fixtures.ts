// Test helpers for test/store: temp dirs that are removed even when read-only, a sample source
// tree (text, executables, symlinks, empty dir and file, a non-UTF-8 name, a file bigger than one
// read chunk, a hard link), and the real-Nix oracles (nix-db-check, sqlite3 .schema).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createCipheriv, createHash } from 'node:crypto';
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

/** Deterministic pseudo-random bytes (an AES-128-CTR keystream keyed by the seed). */
export function noise(n: number, seed: number): Buffer {
  const key = createHash('sha256').update(`noise ${seed}`).digest();
  const c = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16));
  return c.update(Buffer.alloc(n));
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

/** A tree of many files (16–256 KiB, deterministic) plus two big ones: a slow enough add to interrupt. */
export function bigTree(dir: string, opts: { dirs: number; filesPerDir: number; bigMiB: number }): string {
  let seed = 1;
  const block = noise(1 << 20, 99);
  for (let i = 0; i < opts.dirs; i++) {
    const sub = join(dir, `d${i}`, 'lib');
    mkdirSync(sub, { recursive: true });
    for (let j = 0; j < opts.filesPerDir; j++) {
      const size = 16384 + ((seed = (seed * 1103515245 + 12345) >>> 0) % (240 * 1024));
      const off = seed % ((1 << 20) - size);
      writeFileSync(join(sub, `f${j}.so`), block.subarray(off, off + size));
    }
    symlinkSync('lib/f0.so', join(dir, `d${i}`, 'link'));
  }
  for (const n of ['big1', 'big2']) writeFileSync(join(dir, n), noise(opts.bigMiB << 20, n === 'big1' ? 1 : 2));
  return dir;
}

export interface Child {
  proc: import('node:child_process').ChildProcess;
  /** Resolves with the first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
  exited: Promise<number | null>;
}

/** Starts test/store/child.ts with arguments. */
export function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'child.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  let err = '';
  const waiters: { prefix: string; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const lines: string[] = [];
  const deliver = (): void => {
    for (const w of [...waiters]) {
      const l = lines.find((x) => x.startsWith(w.prefix));
      if (l !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    deliver();
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) =>
    proc.on('exit', (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`child exited (${code}) before '${w.prefix}': ${err}`));
      res(code);
    }),
  );
  return {
    proc,
    exited,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve, reject });
        deliver();
      }),
  };
}
