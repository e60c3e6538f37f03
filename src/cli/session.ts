// cli/session: the composition root of an evaluation — an EvalState wired to the Node host,
// the store built-ins (src/derivation/builtins.ts) over a LocalStore, and the prelude. The
// store is opened only when a store operation first needs it (so `imgeval eval -E 1` never
// touches SQLite). Read-only sessions (`imgeval eval`, as `nix-instantiate --eval`) compute
// store paths without writing anything; writing sessions (`instantiate`, `eval
// --read-write-mode`) add paths and `.drv` files to the store. Paths under the logical store dir
// /nix/store are read from the physical root (`--store DIR`, IMGEVAL_STORE, XDG default).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';
import { digest } from '../base/hash.js';
import { StoreBuiltins, type StoreAccess, type StoreFilter } from '../derivation/builtins.js';
import { derivationReferences, parseDerivationFile, type Derivation } from '../derivation/derivation.js';
import { narHash } from '../derivation/nar.js';
import { STORE_DIR, isDerivationPath, makeFixedOutputPath, makeTextPath, toStorePath, type FileIngestionMethod } from '../derivation/store-path.js';
import { EvalState, type EvalExtension, type EvalHost, type SearchPathEntry } from '../eval/index.js';
import { nodeFsReader } from '../store/fs-reader.js';
import { filteredReader } from '../store/fs-tree.js';
import { LocalStore } from '../store/local-store.js';
import { resolveStoreRoot, storeLayout } from '../store/store-root.js';
import { bundledEntry } from './bundle.js';
import { nodeEvalHost } from './host.js';
import { preludeExtension } from './prelude.js';

export interface SessionOptions {
  /** The `--store DIR` flag (else IMGEVAL_STORE, else the XDG default). */
  storeRoot?: string;
  /** The environment (IMGEVAL_STORE, HOME, XDG_DATA_HOME, getEnv). Default: process.env. */
  env?: Record<string, string | undefined>;
  /** The working directory (a native string). Default: process.cwd(). */
  cwd?: string;
  searchPath?: readonly SearchPathEntry[];
  /** Home directory for `~/…` paths (latin1). */
  home?: string;
  /** Compute store paths without writing (nix-instantiate --eval's default). */
  readOnly?: boolean;
  /** Where `trace:` lines and `warning:` lines go. */
  trace: (line: string) => void;
  /** Load the prelude's globals (writeText, runCommand, …); default true. */
  prelude?: boolean;
  /** Extra extensions (later ones win). */
  extensions?: readonly EvalExtension[];
  system?: string;
}

export interface Session {
  readonly state: EvalState;
  /** The physical store root (not necessarily created yet). */
  readonly storeRoot: string;
  readonly readOnly: boolean;
  /** The store, opened (and created) on first use. */
  store(): LocalStore;
  /** The derivations written or computed in this session, by drvPath. */
  readonly derivations: ReadonlyMap<string, Derivation>;
  /** A derivation by drvPath: from this session, else read from the store. */
  readDerivation(drvPath: string): Derivation;
  /** Where a derivation made in this session was defined (its `name` attribute), if known. */
  spanOf(drvPath: string): Span | undefined;
  close(): void;
}

const VALID_NAME = /^[A-Za-z0-9+._?=-]{1,211}$/;
const toNative = (p: string): string => Buffer.from(p, 'latin1').toString('utf8');

/** Creates an evaluation session (see the file comment). */
export function createSession(opts: SessionOptions): Session {
  const env = opts.env ?? process.env;
  const storeRoot = resolveStoreRoot(opts.storeRoot, env as NodeJS.ProcessEnv);
  const layout = storeLayout(storeRoot);
  const readOnly = opts.readOnly ?? false;
  let store: LocalStore | undefined;
  let storeMissing = false;

  const openStore = (): LocalStore => {
    if (!store) store = LocalStore.open({ root: storeRoot, env: env as NodeJS.ProcessEnv });
    return store;
  };
  /** In read-only mode: the store if it exists already (never created), else undefined. */
  const existingStore = (): LocalStore | undefined => {
    if (store) return store;
    if (storeMissing) return undefined;
    if (!existsSync(layout.dbFile)) {
      storeMissing = true;
      return undefined;
    }
    return openStore();
  };
  const queryStore = (): LocalStore | undefined => (readOnly ? existingStore() : openStore());

  /** A path under the logical store dir, as it is on disk under the physical root. */
  const rootLatin1 = Buffer.from(layout.realStoreDir, 'utf8').toString('latin1');
  const mapPath = (p: string): string => (p === STORE_DIR || p.startsWith(STORE_DIR + '/') ? rootLatin1 + p.slice(STORE_DIR.length) : p);

  /** Text paths and `.drv`s made in this session: path → references. */
  const made = new Map<string, readonly string[]>();
  const derivations = new Map<string, Derivation>();

  const readDerivation = (drvPath: string): Derivation => {
    const d = derivations.get(drvPath);
    if (d) return d;
    const s = queryStore();
    if (!s || !s.isValidPath(drvPath)) throw new ImgError('E_STORE', `path '${drvPath}' is not valid`);
    const bytes = readFileSync(s.toPhysical(drvPath));
    const drv = parseDerivationFile(drvPath, bytes);
    derivations.set(drvPath, drv);
    return drv;
  };

  const traceLine = opts.trace;
  const access: StoreAccess = {
    storeDir: STORE_DIR,
    readOnly,
    addTextToStore(name, text, references, drv) {
      let path: string;
      if (readOnly) path = makeTextPath(name, Buffer.from(text, 'latin1'), references);
      else
        path = openStore().addTextToStore(name, text, references, drv ? { derivationOutputs: outputsOf(drv) } : {});
      made.set(path, [...references]);
      if (drv) derivations.set(path, drv);
      return path;
    },
    addPathToStore(path, o) {
      const native = toNative(mapPath(path));
      const filter = o.method === 'recursive' ? o.filter : undefined;
      // A bad name is reported with the hash of the real contents, as Nix does.
      if (!readOnly && VALID_NAME.test(o.name)) return openStore().addToStore(native, { name: o.name, method: o.method, filter });
      return computePath(native, o.name, o.method, filter);
    },
    isValidPath(p) {
      if (made.has(p)) return true;
      return queryStore()?.isValidPath(p) ?? false;
    },
    queryReferences(p) {
      const m = made.get(p);
      if (m) return m;
      const d = derivations.get(p);
      if (d) return derivationReferences(d);
      const s = queryStore();
      if (!s || !s.isValidPath(p)) throw new ImgError('E_STORE', `path '${p}' is not valid`);
      return s.queryReferences(p);
    },
    readDerivation,
    warn(message) {
      traceLine(`warning: ${message}`);
    },
  };
  const builtins = new StoreBuiltins(access);

  const base = nodeEvalHost({ trace: opts.trace, env: env as NodeJS.ProcessEnv, cwd: opts.cwd });
  const host: EvalHost = {
    ...base,
    readFile: (p) => base.readFile(mapPath(p)),
    readDir: (p) => base.readDir(mapPath(p)),
    // The logical store dir always exists, even before the physical store is created.
    pathType: (p, follow) => (p === STORE_DIR || p === STORE_DIR + '/' ? 'directory' : base.pathType(mapPath(p), follow)),
    copyPathToStore: (p) => builtins.copyPathToStore(p),
    realiseContext(ctx) {
      // Import from derivation: outputs that are not valid yet are built by a child
      // `imgeval build` (the build layer is asynchronous; evaluation is not).
      const missing: string[] = [];
      for (const c of ctx) {
        if (c.startsWith('=') || c.startsWith('!')) {
          const drvPath = c.startsWith('=') ? c.slice(1) : c.slice(c.indexOf('!', 1) + 1);
          const drv = readDerivation(drvPath);
          const wanted = c.startsWith('=') ? [...drv.outputs.keys()] : [c.slice(1, c.indexOf('!', 1))];
          const s = existingStore();
          for (const o of wanted) {
            const out = drv.outputs.get(o)?.path;
            if (!out || !s || !s.isValidPath(out)) missing.push(`${drvPath}!${o}`);
          }
        } else if (!readOnly && !openStore().isValidPath(c)) {
          throw new ImgError('E_STORE', `path '${c}' is not valid`);
        }
      }
      if (missing.length === 0) return;
      if (readOnly) {
        throw new ImgError('E_BUILD', `reading '${missing[0]}' needs building it (import from derivation), which read-only evaluation does not do`, undefined, [
          { message: `evaluate with --read-write-mode, or build it first with 'imgeval build'` },
        ]);
      }
      const r = buildInChild(storeRoot, missing, env);
      if (r.code !== 0) {
        throw new ImgError('E_BUILD', `building '${missing[0]}'${missing.length > 1 ? ` and ${missing.length - 1} more` : ''} for import from derivation failed`, undefined, [
          { message: r.stderr.trim().split('\n').slice(-8).join('\n') },
        ]);
      }
    },
  };

  const extensions: EvalExtension[] = [builtins.extension()];
  if (opts.prelude !== false) extensions.push(preludeExtension());
  extensions.push(...(opts.extensions ?? []));
  const state = new EvalState({
    host,
    searchPath: opts.searchPath,
    home: opts.home,
    extensions,
    storeDir: STORE_DIR,
    system: opts.system,
  });

  return {
    state,
    storeRoot,
    readOnly,
    store: openStore,
    derivations,
    readDerivation,
    spanOf: (drvPath) => builtins.spans.get(drvPath),
    close() {
      store?.close();
      store = undefined;
    },
  };
}

/** Runs `imgeval build --no-link` on the targets in a child process, synchronously. */
function buildInChild(storeRoot: string, targets: string[], env: Record<string, string | undefined>): { code: number; stderr: string } {
  const args = JSON.stringify(['build', '--no-link', '--store', storeRoot, ...targets.map(toNative)]);
  // from the bundle: the same bundle, as CommonJS; else main.ts/main.js beside this module
  const bundle = bundledEntry('imgeval');
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const mainUrl = new URL(`./main${ext}`, import.meta.url).href;
  const code = bundle
    ? `require(${JSON.stringify(bundle)}).main(${args}).then((code) => { process.exitCode = code; });`
    : `import(${JSON.stringify(mainUrl)}).then(async (m) => { process.exitCode = await m.main(${args}); });`;
  const execArgv = process.execArgv.filter((a, i, all) => a !== '-e' && a !== '--eval' && all[i - 1] !== '-e' && all[i - 1] !== '--eval');
  const r = spawnSync(process.execPath, [...execArgv, ...(bundle ? [] : ['--input-type=module']), '-e', code], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? 1, stderr: r.stderr ? r.stderr.toString('utf8') : String(r.error ?? '') };
}

function outputsOf(drv: Derivation): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, o] of drv.outputs) if (o.path !== '') m.set(name, o.path);
  return m;
}

/** Nix's computeStorePathForPath: the path `addToStore` would give, without writing. */
function computePath(native: string, name: string, method: FileIngestionMethod, filter: StoreFilter | undefined): string {
  const src = resolvePath(native);
  try {
    if (method === 'recursive') {
      const reader = filter ? filteredReader(nodeFsReader, filter) : nodeFsReader;
      const { narHash: h } = narHash(reader, src);
      return makeFixedOutputPath('recursive', 'sha256', h, name);
    }
    const st = nodeFsReader.lstat(src);
    if (st.type !== 'regular') throw new ImgError('E_STORE', `cannot add '${src}' flat: it is not a regular file`);
    const chunks: Buffer[] = [];
    nodeFsReader.readFile(src, (c) => chunks.push(Buffer.from(c)));
    return makeFixedOutputPath('flat', 'sha256', digest('sha256', Buffer.concat(chunks)), name);
  } catch (e) {
    if (e instanceof ImgError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new ImgError('E_IO', `getting status of '${src}': No such file or directory`);
    if (code === 'EACCES') throw new ImgError('E_IO', `reading '${src}': Permission denied`);
    throw e;
  }
}

/** True for a path in the logical store (used by the CLI to recognise `.drv` arguments). */
export function isLogicalStorePath(p: string): boolean {
  try {
    toStorePath(p);
    return true;
  } catch {
    return false;
  }
}

export { isDerivationPath };
