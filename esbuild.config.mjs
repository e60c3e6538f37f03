// esbuild.config.mjs: bundles the CLI into single CommonJS files (run by `npm run build` and
// `prepare`, after tsc has written the per-module output to dist/):
//   dist/imgeval.bundle.cjs      src/cli/main.ts and everything it imports
//   dist/eval-worker.bundle.cjs  src/cli/eval-worker.ts (the big-stack worker of `imgeval eval`)
// and for each its loader, dist/imgeval.cjs (what bin/imgeval.js requires) and
// dist/eval-worker.cjs, which run the bundle through V8's code cache (src/cli/load-bundle.ts);
// then it runs bin/imgeval.js once so that the cache for the bin's node flags exists.
// Loading ~100 ES modules (resolve, read, compile, link each) cost ~80 ms of a ~250 ms
// `imgeval eval -E 1`; one CommonJS file costs a few. Never changes what the code does:
// - chevrotain comes from its single-file ESM build (src/syntax/chevrotain.ts does the same at
//   run time, with a top-level await a CommonJS bundle cannot have);
// - `import.meta.url` in a source file becomes the URL that file has in dist/ (tsc's output
//   layout), so files found relative to a module (src/prelude/*.img) are found as from dist/;
//   src/cli/bundle.ts tells the code it runs from the bundle (its workers are bundles too);
// - Node built-ins that `node -e 0` has not loaded yet (crypto, child_process, worker_threads,
//   stream, zlib, …) and better-sqlite3 (native, kept external) are required on first use, not
//   when the bundle loads: `eval -E 1` never pays for a store, a hash or a process.
// execa and tar-stream (pure JS) are bundled.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

/** Built-ins loaded during Node's own bootstrap (`node -e 0`): requiring them costs nothing. */
const LOADED_AT_BOOT = new Set(['buffer', 'events', 'fs', 'module', 'path', 'timers', 'url', 'util']);

const BUNDLES = [
  { entry: 'src/cli/main.ts', name: 'imgeval' },
  { entry: 'src/cli/eval-worker.ts', name: 'eval-worker' },
];

/** Helpers the bundle's code refers to (prepended to each bundle). */
const BANNER = `"use strict";
const __imgevalDistUrl = require("node:url").pathToFileURL(__dirname + "/").href;
const __imgevalModuleUrl = (rel) => new URL(rel, __imgevalDistUrl).href;
const __imgevalNoResolve = (s) => { throw new Error("internal error: import.meta.resolve(" + JSON.stringify(s) + ") in the bundle"); };
function __imgevalLazy(id) {
  let m;
  const load = () => (m ??= require(id));
  return new Proxy({}, {
    get: (_, k) => load()[k],
    has: (_, k) => k in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, k) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), k);
      return d && { ...d, configurable: true };
    },
  });
}
function __imgevalLazyDefault(id) {
  return { get default() { return require(id); } };
}`;

/**
 * Edits of chevrotain's code, each checked to apply exactly once. The Lexer constructor fills a
 * 65536-entry table (char code → optimized index) that only holds `i > 255 ? 255 + ~~(i / 255) : i`:
 * interpreted at start-up, that loop was the biggest single cost of building our lexer (~4 ms);
 * the formula gives the same index for every char code.
 */
const CHEVROTAIN_EDITS = [
  ['return charCode < minOptimizationVal ? charCode : charCodeToOptimizedIdxMap[charCode];', 'return charCode < minOptimizationVal ? charCode : 255 + ~~(charCode / 255);'],
  [
    `    charCodeToOptimizedIdxMap = new Array(65536);
    for (let i = 0; i < 65536; i++) {
      charCodeToOptimizedIdxMap[i] = i > 255 ? 255 + ~~(i / 255) : i;
    }`,
    '    charCodeToOptimizedIdxMap = [0];',
  ],
];

/** src/syntax/chevrotain.ts: chevrotain's single-file ESM build, statically (with the edits). */
const chevrotainPlugin = {
  name: 'imgeval-chevrotain',
  setup(b) {
    const entry = createRequire(import.meta.url).resolve('chevrotain'); // …/chevrotain/lib/src/api.js
    const file = resolve(dirname(entry), '..', 'chevrotain.mjs');
    b.onLoad({ filter: /[\\/]src[\\/]syntax[\\/]chevrotain\.ts$/ }, () => ({
      contents: `export * as chevrotain from ${JSON.stringify(file)};`,
      loader: 'js',
      resolveDir: dirname(file),
    }));
    b.onLoad({ filter: /[\\/]chevrotain[\\/]lib[\\/]chevrotain\.mjs$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const [from, to] of CHEVROTAIN_EDITS) {
        if (text.split(from).length !== 2) throw new Error(`${args.path}: an edit of esbuild.config.mjs no longer applies (chevrotain changed?): ${from.split('\n')[0]}`);
        text = text.replace(from, () => to);
      }
      return { contents: text, loader: 'js' };
    });
  },
};

/** `import.meta.url` of src/x/y.ts → the URL of dist/x/y.js; `import.meta.resolve` → an error. */
const moduleUrlPlugin = {
  name: 'imgeval-module-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const rel = relative(SRC, args.path).split('\\').join('/').replace(/\.ts$/, '.js');
      const contents = text
        .replaceAll('import.meta.url', `__imgevalModuleUrl(${JSON.stringify(rel)})`)
        .replaceAll('import.meta.resolve(', '__imgevalNoResolve(');
      if (contents.includes('import.meta')) throw new Error(`${args.path}: an import.meta use the bundle does not handle`);
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Requires of costly built-ins become lazy: a named import compiles to `x = require("node:m")`
 * and uses `x.name` where it is called, so a Proxy that requires on first property access
 * keeps its meaning. Default and namespace imports (`__toESM(require(…))`) stay eager, except
 * better-sqlite3's default export (db.ts: `new Database(…)`).
 */
function lazyRequires(code, name) {
  let lazy = 0;
  let out = code.replace(/(__toESM\()?require\("node:([a-z0-9_/]+)"\)/g, (all, toESM, id) => {
    if (toESM || LOADED_AT_BOOT.has(id.split('/')[0])) return all;
    lazy++;
    return `__imgevalLazy("node:${id}")`;
  });
  // `await import("node:fs")` (image/) → the same module, required
  out = out.replace(/\bimport\("(node:[a-z0-9_/]+)"\)/g, (_, id) => `Promise.resolve(require("${id}"))`);
  let sqlite = 0;
  out = out.replace(/__toESM\(require\("better-sqlite3"\)(?:,1)?\)/g, () => (sqlite++, '__imgevalLazyDefault("better-sqlite3")'));
  if (out.includes('require("better-sqlite3")')) throw new Error(`${name}: better-sqlite3 is required in a form the build does not make lazy`);
  if (lazy === 0) throw new Error(`${name}: no built-in require made lazy (did esbuild's output change?)`);
  return { code: out, lazy, sqlite };
}

export async function bundle({ log = true } = {}) {
  for (const f of readdirSync(DIST)) if (/\.cache$|\.cache\..*\.tmp$/.test(f)) rmSync(join(DIST, f), { force: true });
  for (const { entry, name } of BUNDLES) {
    const r = await build({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['better-sqlite3'],
      plugins: [chevrotainPlugin, moduleUrlPlugin],
      define: { IMGEVAL_BUNDLE_DIR: '__dirname' },
      banner: { js: BANNER },
      minifySyntax: true,
      minifyWhitespace: true,
      legalComments: 'none',
      write: false,
      logLevel: 'warning',
    });
    const { code, lazy, sqlite } = lazyRequires(r.outputFiles[0].text, name);
    // the build id on the first line: the code cache is used only with the bundle it was made from
    const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
    writeFileSync(join(DIST, `${name}.bundle.cjs`), `/*imgeval-bundle ${id}*/\n${code}`);
    await build({
      stdin: { contents: `module.exports = require("./load-bundle.ts").loadBundle(__dirname, ${JSON.stringify(name)});`, resolveDir: join(SRC, 'cli'), loader: 'js' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: join(DIST, `${name}.cjs`),
      logLevel: 'warning',
    });
    if (log) console.log(`esbuild: dist/${name}.bundle.cjs ${(code.length / 1024).toFixed(0)} KiB (${lazy} lazy built-in requires${sqlite ? ', lazy better-sqlite3' : ''}), dist/${name}.cjs`);
  }
  // the code cache for the bin's own node flags (V8 rejects a cache made under other flags)
  const bin = join(ROOT, 'bin', 'imgeval.js');
  const r = spawnSync(bin, ['eval', '-E', '1'], { encoding: 'utf8' });
  if (r.status !== 0 || r.stdout !== '1\n') throw new Error(`bin/imgeval.js eval -E 1 failed after bundling: ${r.error ?? r.stderr}`);
  const caches = readdirSync(DIST).filter((f) => f.endsWith('.cache'));
  if (log) console.log(`esbuild: code cache ${caches.map((f) => `dist/${f}`).join(', ') || '(none written)'}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundle();
