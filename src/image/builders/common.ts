// image/builders/common: what the image builders share — reading the `imageArgs` JSON of a
// derivation, the store as a StoreLocation, store paths named in a string, reference scanning of
// a directory tree, writing layer entries out as a real directory (for extraCommands), running
// shell commands (extraCommands plainly, fakeRootCommands under fakeroot, reading back the
// ownership it recorded), the store paths present in base layers, and the layer-digest cache.
// Never writes outside the builder's output, its scratch dir and the layer-digest cache, and
// never writes to stdout/stderr (command output goes to the build log).

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import tarStream from 'tar-stream';
import { ImgError } from '../../base/error.js';
import type { BuiltinBuildContext } from '../../build/builder-registry.js';
import { sandbox, shQuote } from '../../build/sandbox.js';
import { ReferenceScanner } from '../../store/references.js';
import type { BaseImage } from '../docker-archive.js';
import type { OwnershipOverride, StoreLocation } from '../layer.js';
import { TarWriter, type ByteSink, type TarEntry, type TarOwner } from '../tar-writer.js';

/** mtime of buildImage layers, customisation layers and buildImage archives: Nix's SOURCE_DATE_EPOCH. */
export const SOURCE_DATE_EPOCH = 315532800;

export const fsPath = (p: string): Buffer => Buffer.from(p, 'latin1');
export const u = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');

export function buildError(builder: string, message: string, notes: string[] = []): ImgError {
  return new ImgError('E_BUILD', `builtin:${builder}: ${message}`, undefined, notes.map((message) => ({ message })));
}

/** The derivation's `imageArgs` JSON (byte strings stay byte strings). */
export function imageArgs<T>(ctx: BuiltinBuildContext, builder: string): T {
  const s = ctx.env.get('imageArgs');
  if (s === undefined) throw buildError(builder, `missing attribute 'imageArgs'`);
  try {
    return JSON.parse(s) as T;
  } catch (e) {
    throw buildError(builder, `'imageArgs' is not valid JSON: ${(e as Error).message}`);
  }
}

export function outDir(ctx: BuiltinBuildContext, builder: string): string {
  const p = ctx.outputTemps.get('out');
  if (p === undefined) throw buildError(builder, `the derivation has no output named 'out'`);
  return p;
}

export function storeLocation(ctx: BuiltinBuildContext): StoreLocation {
  return { storeDir: ctx.store.storeDir, toPhysical: (p) => ctx.store.toPhysical(p) };
}

/** `/nix/store/<hash>-name` → `<hash>`. */
export function hashPart(storePath: string): string {
  const b = storePath.slice(storePath.lastIndexOf('/') + 1);
  return b.slice(0, 32);
}

/** The valid store paths (top-level) named anywhere in `text`, sorted and unique. */
export function storePathsIn(ctx: BuiltinBuildContext, text: string): string[] {
  const dir = ctx.store.storeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${dir}/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]*`, 'g');
  const found = new Set<string>();
  for (const m of text.matchAll(re)) {
    let p = m[0];
    // a name cannot end in '.' followed by more path text we cut; try the longest valid prefix
    while (p.length > ctx.store.storeDir.length + 34 && !ctx.store.isValidPath(p)) p = p.slice(0, -1);
    if (ctx.store.isValidPath(p)) found.add(p);
  }
  return [...found].sort();
}

/** Store paths whose hash part occurs in the files and symlink targets under `dir` (physical). */
export function scanTree(dir: string, candidates: readonly string[]): string[] {
  if (candidates.length === 0) return [];
  const scanner = new ReferenceScanner(candidates);
  const sep = Buffer.from([0]);
  const walk = (p: Buffer): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) {
      scanner.update(readlinkSync(p, { encoding: 'buffer' }));
      scanner.update(sep);
    } else if (st.isFile()) {
      scanner.update(readFileSync(p));
      scanner.update(sep);
    } else if (st.isDirectory()) {
      for (const n of readdirSync(p, { encoding: 'buffer' }).sort(Buffer.compare)) walk(Buffer.concat([p, Buffer.from('/'), n]));
    }
  };
  walk(fsPath(dir));
  return scanner.result();
}

/** Writes tar entries out as a real directory tree at `dir` (physical), for commands to run in. */
export function materialise(entries: readonly TarEntry[], dir: string): void {
  mkdirSync(fsPath(dir), { recursive: true });
  const dirModes: [Buffer, number][] = [];
  for (const e of entries) {
    const p = fsPath(`${dir}/${e.name.replace(/\/$/, '')}`);
    if (e.type === 'directory') {
      mkdirSync(p, { recursive: true });
      dirModes.push([p, e.mode]);
    } else if (e.type === 'symlink') {
      symlinkSync(fsPath(e.target), p);
    } else if (e.type === 'file') {
      if ('path' in e.source) copyFileSync(fsPath(e.source.path), p);
      else writeFileSync(p, e.source.data);
      chmodSync(p, (e.mode & 0o777) | 0o200);
    }
  }
  // writable while the commands run (as nixpkgs' `chmod ug+w`); modes are read back afterwards
  for (const [p, m] of dirModes) chmodSync(p, (m & 0o777) | 0o700);
}

/** A PATH with the host's standard tools (no stdenv here). */
const HOST_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

function commandEnv(ctx: BuiltinBuildContext, out: string): Record<string, string> {
  return {
    PATH: HOST_PATH,
    HOME: '/homeless-shelter',
    TMPDIR: ctx.tmpDir,
    NIX_BUILD_TOP: ctx.tmpDir,
    NIX_STORE: ctx.store.storeDir,
    SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH),
    out,
    LC_ALL: 'C',
  };
}

/**
 * The command line that runs `argv` in `cwd` with the store visible at its logical path
 * (/nix/store), in the build layer's private mount namespace (build/sandbox.ts), so that
 * commands can use `${pkg}/bin/…`. Without a namespace (unshare unavailable) the command runs
 * as it is, which works for commands that do not touch store paths; the log says so.
 */
function inStoreNamespace(ctx: BuiltinBuildContext, argv: string[], cwd: string): string[] {
  let sb;
  try {
    sb = sandbox();
  } catch (e) {
    ctx.log(`note: commands run without a mount namespace, so /nix/store is not visible to them (${e instanceof ImgError ? e.message : String(e)})`);
    return argv;
  }
  const storePhysical = dirname(ctx.store.toPhysical(`${ctx.store.storeDir}/x`));
  const script = [
    'set -e',
    `${sb.mount} --bind -o ro ${shQuote(storePhysical)} ${ctx.store.storeDir} 2>/dev/null || ${sb.mount} --bind ${shQuote(storePhysical)} ${ctx.store.storeDir}`,
    `cd ${shQuote(cwd)}`,
    'exec "$@"',
  ].join('\n');
  return [...sb.prefix, sb.sh, '-c', script, 'sh', ...argv];
}

/** Runs `script` with /bin/sh in `cwd` (after `prefix`, e.g. fakeroot); its output goes to the build log. */
export async function runCommands(ctx: BuiltinBuildContext, builder: string, what: string, script: string, cwd: string, prefix: string[] = []): Promise<void> {
  if (script.trim() === '') return;
  const argv = inStoreNamespace(ctx, [...prefix, '/bin/sh', '-e', '-c', script], cwd);
  const r = await execa(argv[0]!, argv.slice(1), {
    cwd,
    env: commandEnv(ctx, ctx.outputs.get('out') ?? ''),
    extendEnv: false,
    all: true,
    reject: false,
    stdin: 'ignore',
    cancelSignal: ctx.signal,
    encoding: 'buffer',
  });
  const all = r.all ? Buffer.from(r.all as unknown as Uint8Array) : undefined;
  if (all && all.length) for (const line of all.toString('latin1').replace(/\n$/, '').split('\n')) ctx.log(line);
  if ((r as { code?: string }).code === 'ENOENT') throw buildError(builder, `${what}: '${argv[0]}' is not installed`);
  if (r.failed) throw buildError(builder, `${what} failed with exit code ${r.exitCode ?? '?'}`);
}

/**
 * Runs fakeRootCommands under fakeroot in `dir` and returns the ownership and mode changes they
 * made, as tar-header overrides (paths relative to `dir`, `/`-rooted). Entries whose faked
 * owner and mode equal what is on disk are left alone (they get the layer's default owner 0:0).
 */
export async function runFakeRoot(ctx: BuiltinBuildContext, builder: string, script: string, dir: string): Promise<OwnershipOverride[]> {
  if (script.trim() === '') return [];
  // What is there before: fakeroot (as a real root too) may really chown, so compare with this.
  const before = new Map<string, { uid: number; gid: number }>();
  const snap = (rel: string): void => {
    const st = lstatSync(fsPath(dir + rel));
    before.set(rel, { uid: st.uid, gid: st.gid });
    if (st.isDirectory()) for (const n of readdirSync(fsPath(dir + rel), { encoding: 'buffer' })) snap(`${rel}/${n.toString('latin1')}`);
  };
  snap('');
  const state = join(ctx.tmpDir, 'fakeroot.state');
  writeFileSync(state, '');
  await runCommands(ctx, builder, 'fakeRootCommands', script, dir, ['fakeroot', '-i', state, '-s', state, '--']);
  // read back the faked view (uid gid mode path)
  const r = await execa('fakeroot', ['-i', state, '--', 'find', '.', '-printf', '%U %G %m %p\\0'], {
    cwd: dir, reject: false, encoding: 'buffer', env: commandEnv(ctx, ''), extendEnv: false,
  });
  if (r.failed) throw buildError(builder, `fakeRootCommands: reading the recorded ownership failed (exit ${r.exitCode ?? '?'})`);
  const out: OwnershipOverride[] = [];
  for (const rec of Buffer.from(r.stdout as unknown as Uint8Array).toString('latin1').split('\0')) {
    const m = /^(\d+) (\d+) ([0-7]+) \.(\/.*)?$/s.exec(rec);
    if (!m || !m[4]) continue;
    const rel = m[4];
    const uid = Number(m[1]);
    const gid = Number(m[2]);
    const mode = parseInt(m[3]!, 8);
    const st = lstatSync(fsPath(dir + rel));
    const was = before.get(rel);
    // an entry that existed keeps 0:0 unless its faked owner changed; a new one gets its faked owner
    const changed = was ? uid !== was.uid || gid !== was.gid : uid !== 0 || gid !== 0;
    const modeChanged = !st.isSymbolicLink() && mode !== (st.mode & 0o7777);
    if (changed || modeChanged) out.push({ path: rel, ...(changed ? { uid, gid } : {}), ...(modeChanged ? { mode } : {}) });
  }
  return out;
}

/**
 * The top-level store paths present in the base image's layers. With `dbFile`, the topmost
 * layer's `nix/var/nix/db/db.sqlite` is copied there (true when there was one).
 */
export async function baseStorePaths(base: BaseImage | undefined, storeDir: string, dbFile?: string): Promise<Set<string> & { hasDb?: boolean }> {
  const found: Set<string> & { hasDb?: boolean } = new Set<string>();
  if (!base) return found;
  const prefix = storeDir.replace(/^\//, '') + '/';
  for (const l of base.layers) {
    const ex = tarStream.extract();
    const done = new Promise<void>((res, rej) => {
      ex.on('entry', (h, stream, next) => {
        let n = h.name.replace(/^\.?\//, '');
        if (n.startsWith('/')) n = n.slice(1);
        if (n.startsWith(prefix)) {
          const top = n.slice(prefix.length).split('/')[0];
          if (top) found.add(`${storeDir}/${top}`);
        }
        if (dbFile && n === 'nix/var/nix/db/db.sqlite' && h.type === 'file') {
          found.hasDb = true;
          pipeline(stream, createWriteStream(dbFile)).then(() => next(), (e: unknown) => ex.destroy(e as Error));
          return;
        }
        stream.on('end', next);
        stream.resume();
      });
      ex.on('finish', res);
      ex.on('error', rej);
    });
    const src = l.open();
    src.on('error', (e) => ex.destroy(e));
    src.pipe(ex);
    try {
      await done;
    } catch (e) {
      throw new ImgError('E_ARCHIVE', `layer '${u(l.member)}' of '${u(base.archive)}' is not a readable tar: ${(e as Error).message}`);
    }
  }
  return found;
}

// ---------- the layer-digest cache ----------

/**
 * Layer digests by the exact content spec of a store layer (store paths, mtime, owner, format
 * version). Store paths never change once valid, so the tar bytes — and their diffID — are a
 * function of the spec. Kept beside the store database (`<root>/nix/var/imgeval/layer-digests`),
 * written atomically; a missing or unreadable entry is recomputed. IMGEVAL_NO_LAYER_CACHE=1
 * turns it off (a clean first build).
 */
export interface LayerDigest {
  readonly diffID: string;
  readonly size: number;
  /**
   * CRC-32 (zlib's) of the same bytes: buildLayeredImage's archive writer checks each store
   * layer it writes against it (~8x cheaper than SHA-256), so the archive is hashed (NAR) once.
   */
  readonly crc32: number;
}

/** 2: entries hold crc32 too. */
const CACHE_VERSION = 2;

export function layerCacheKey(paths: readonly string[], mtime: number, owner: TarOwner, parentMode: number): string {
  return createHash('sha256').update(JSON.stringify({ v: CACHE_VERSION, paths, mtime, owner, parentMode })).digest('hex');
}

function cacheDir(ctx: BuiltinBuildContext | StoreLocation): string {
  const loc = 'store' in ctx ? ctx.store : ctx;
  const probe = loc.toPhysical(`${loc.storeDir}/x`);
  return join(dirname(dirname(probe)), 'var', 'imgeval', 'layer-digests');
}

export function cacheEnabled(): boolean {
  return process.env.IMGEVAL_NO_LAYER_CACHE !== '1';
}

export function readLayerCache(ctx: BuiltinBuildContext, key: string): LayerDigest | undefined {
  if (!cacheEnabled()) return undefined;
  const f = join(cacheDir(ctx), key.slice(0, 2), key);
  try {
    // (a missing entry throws ENOENT: one system call, no existsSync before it)
    const v = JSON.parse(readFileSync(f, 'utf8')) as LayerDigest;
    if (typeof v.diffID === 'string' && /^sha256:[0-9a-f]{64}$/.test(v.diffID) && Number.isSafeInteger(v.size) && Number.isInteger(v.crc32) && v.crc32 >= 0 && v.crc32 < 2 ** 32) return v;
  } catch {
    /* recomputed */
  }
  return undefined;
}

export function writeLayerCache(ctx: BuiltinBuildContext, key: string, d: LayerDigest): void {
  if (!cacheEnabled()) return;
  try {
    const dir = join(cacheDir(ctx), key.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${key}.${process.pid}`);
    writeFileSync(tmp, JSON.stringify({ diffID: d.diffID, size: d.size, crc32: d.crc32 }));
    renameSync(tmp, join(dir, key));
  } catch {
    /* a cache that cannot be written only costs time */
  }
}

/** The sha256, size and CRC-32 of a tar of `entries`, without writing it anywhere. */
export async function digestEntries(entries: readonly TarEntry[]): Promise<LayerDigest> {
  let crc = 0;
  const sink: ByteSink = {
    write(c) {
      crc = crc32(c, crc);
    },
  };
  const w = new TarWriter(sink);
  for (const e of entries) await w.add(e);
  const r = await w.finish();
  return { diffID: r.diffID, size: r.size, crc32: crc };
}

/** Writes `data` as a file with mode 0444. */
export function writeReadOnly(path: string, data: Uint8Array | string): void {
  writeFileSync(path, data);
  chmodSync(path, 0o444);
}
