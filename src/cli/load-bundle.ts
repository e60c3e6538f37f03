// cli/load-bundle: runs a bundle made by esbuild.config.mjs (dist/<name>.bundle.cjs) as a
// CommonJS module through V8's code cache, which saves compiling it (most of what is left of
// start-up once the code is one file). esbuild.config.mjs compiles this file into each entry's
// loader, dist/<name>.cjs (what bin/imgeval.js requires and the eval worker runs).
// The cache (dist/<name>.<key>.cache) is V8's serialized code for the functions that ran; V8
// accepts it only for the same V8 version and flags, so the file name carries a hash of the
// Node version and flags, and its first line the bundle's build id (V8 itself only compares the
// source's length). A missing, stale, rejected or unwritable cache is never an error: the bundle
// is then compiled as usual and a new cache is written when the process exits, if it can be.
// Never changes what the bundle does.

import { accessSync, constants as fsConstants, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';

/** The CommonJS wrapper (same line as the bundle's first, so line numbers stay right). */
const HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const TAIL = '\n})';

/** FNV-1a, 32 bits, as 8 hex digits: a short, stable name for the flags. */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

function readCache(file: string, id: string): Buffer | undefined {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return undefined;
  }
  const nl = b.indexOf(10);
  return nl > 0 && b.toString('latin1', 0, nl) === id ? b.subarray(nl + 1) : undefined;
}

function writeCache(file: string, id: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${id}\n`, 'latin1'), data]));
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
}

/** Whether a cache could be written into `dir` (else making one at exit would be wasted). */
function writable(dir: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The exports of dist/<name>.bundle.cjs (in `dir`), compiled with its code cache when valid. */
export function loadBundle(dir: string, name: string): unknown {
  const file = join(dir, `${name}.bundle.cjs`);
  const source = readFileSync(file, 'utf8');
  // first line: /*imgeval-bundle <id>*/ (written by esbuild.config.mjs)
  const id = source.slice(0, source.indexOf('\n'));
  const key = fnv(`${process.version}\0${process.execArgv.join('\0')}\0${process.env.NODE_OPTIONS ?? ''}`);
  const cacheFile = join(dir, `${name}.${key}.cache`);
  const cachedData = id.startsWith('/*imgeval-bundle ') ? readCache(cacheFile, id) : undefined;
  const script = new Script(HEAD + source + TAIL, {
    filename: file,
    cachedData,
    importModuleDynamically: vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if ((cachedData === undefined || script.cachedDataRejected === true) && id.startsWith('/*imgeval-bundle ') && writable(dir)) {
    // after the run, so that the cache holds every function that ran, not only the top level
    process.once('exit', () => {
      try {
        writeCache(cacheFile, id, script.createCachedData());
      } catch {
        // no cache this time
      }
    });
  }
  const module = { exports: {} as unknown };
  const fn = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: { exports: unknown }, f: string, d: string) => void;
  fn.call(module.exports, module.exports, createRequire(file), module, file, dir);
  return module.exports;
}
