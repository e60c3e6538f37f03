// derivation/builtins: the store built-ins of the evaluator, as an `EvalExtension` — Nix 2.8's
// derivationStrict (attributes forced and coerced exactly as derivation-strict.ts's header says,
// context → inputDrvs/inputSrcs, the `.drv` written as a text path), toFile, path,
// filterSource, storePath, and the path → store copy behind `"${./dir}"` (the host hook).
// It never does IO itself: the store is reached only through the `StoreAccess` callbacks the
// composition root (src/cli/session.ts) passes in, which either write into a LocalStore or,
// in read-only mode (`nix-instantiate --eval`), only compute the paths.

import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';
import { parseHash } from '../base/hash.js';
import type { EvalExtension, EvalState } from '../eval/index.js';
import {
  ContextBuilder,
  call2,
  coerceToString,
  forceAttrs,
  forceBool,
  forceList,
  forceStringNoCtx,
  typeError,
  withTrace,
} from '../eval/ops.js';
import { quoteJSONString } from '../eval/lib/json.js';
import { printJSON } from '../eval/print.js';
import { Attrs, NixString, force, isFunction, showType, type BuiltinDef, type Lazy, type Value } from '../eval/value.js';
import { checkOutputs, derivationStrict, parseOutputHashMode, tokenizeOutputs, type DerivationStrictInput } from './derivation-strict.js';
import { DrvHashes, type Derivation } from './derivation.js';
import { makeFixedOutputPath, toFilePath, toStorePath, type FileIngestionMethod } from './store-path.js';

/** A path filter as the store calls it: the entry's full path (byte string) and its type. */
export type StoreFilter = (path: string, type: 'regular' | 'directory' | 'symlink' | 'unknown') => boolean;

/**
 * What the store built-ins need from a store. Paths are byte strings (latin1). In read-only
 * mode the `add*` calls only compute the path (Nix's computeStorePathFor*), and `isValidPath`
 * may answer from what this session computed.
 */
export interface StoreAccess {
  readonly storeDir: string;
  /** True when nothing is written (`imgeval eval` without --read-write-mode). */
  readonly readOnly: boolean;
  /** A text file (toFile, `.drv`): returns its text path. `drv` is set for a derivation. */
  addTextToStore(name: string, text: string, references: readonly string[], drv?: Derivation): string;
  /** Copies a file system path into the store (recursive NAR or flat file, sha256), filtered. */
  addPathToStore(path: string, opts: { name: string; method: FileIngestionMethod; filter?: StoreFilter }): string;
  isValidPath(storePath: string): boolean;
  queryReferences(storePath: string): readonly string[];
  /** A derivation written (or computed) earlier: from this session, else from the store. */
  readDerivation(drvPath: string): Derivation;
  /** Reports a warning the way Nix prints one (`warning: …`). */
  warn(message: string): void;
}

function derivationError(e: unknown, span: Span | undefined): unknown {
  if (e instanceof ImgError) return e.at(span);
  return e;
}

/** The base name of a path as Nix's baseNameOf (trailing slash ignored). */
function baseNameOf(p: string): string {
  let end = p.length;
  if (end > 1 && p[end - 1] === '/') end--;
  const i = p.lastIndexOf('/', end - 1);
  return p.slice(i + 1, end);
}

/** The store built-ins bound to one store. */
export class StoreBuiltins {
  readonly hashes: DrvHashes;
  /** Where each derivation of this session was defined (its `name` attribute), for build errors. */
  readonly spans = new Map<string, Span>();

  constructor(readonly access: StoreAccess) {
    this.hashes = new DrvHashes((p) => access.readDerivation(p), access.storeDir);
  }

  /** EvalState.copyPathToStore's host hook: `"${./dir}"` (recursive, default filter). */
  copyPathToStore(path: string): string {
    if (path.endsWith('.drv')) throw new ImgError('E_EVAL', `file names are not allowed to end in '.drv'`);
    return this.access.addPathToStore(path, { name: baseNameOf(path), method: 'recursive' });
  }

  /** `derivationStrict attrs` (Nix 2.8 prim_derivationStrict). */
  derivationStrict(st: EvalState, span: Span | undefined, arg: Lazy): Value {
    const attrs = forceAttrs(arg, span);
    const nameLazy = attrs.m.get('name');
    if (nameLazy === undefined) throw new ImgError('E_DERIVATION', `required attribute 'name' missing`, span);
    const posDrvName = attrs.posOf('name') ?? span;
    let drvName: string;
    try {
      drvName = forceStringNoCtx(nameLazy, span);
    } catch (e) {
      throw withTrace(e, `while evaluating the derivation attribute 'name'`, posDrvName);
    }
    const sa = attrs.m.get('__structuredAttrs');
    const structured = sa !== undefined && forceBool(sa, span);
    const inl = attrs.m.get('__ignoreNulls');
    const ignoreNulls = inl !== undefined && forceBool(inl, span);

    const ctx = new ContextBuilder();
    const env = new Map<string, string>();
    const args: string[] = [];
    const input: DerivationStrictInput = { name: drvName, env, args, context: [] };
    const json: string[] = [];

    for (const key of attrs.names()) {
      if (key === '__ignoreNulls') continue;
      const v = attrs.m.get(key)!;
      const pos = attrs.posOf(key);
      try {
        if (ignoreNulls && force(v) === null) continue;
        if (key === '__contentAddressed') {
          if (forceBool(v, span)) {
            throw new ImgError(
              'E_DERIVATION',
              `experimental Nix feature 'ca-derivations' is disabled; use '--extra-experimental-features ca-derivations' to override`,
              posDrvName,
            );
          }
        } else if (key === '__impure') {
          if (forceBool(v, span)) {
            throw new ImgError(
              'E_DERIVATION',
              `experimental Nix feature 'impure-derivations' is disabled; use '--extra-experimental-features impure-derivations' to override`,
              posDrvName,
            );
          }
        } else if (key === 'args') {
          for (const elem of forceList(v, span)) args.push(coerceToString(st, elem, ctx, true, true, posDrvName));
        } else if (structured) {
          if (key === '__structuredAttrs') continue;
          json.push(`${quoteJSONString(key)}:${printJSON(st, v, ctx, span)}`);
          if (key === 'builder') input.builder = forceStringCtx(v, ctx, posDrvName);
          else if (key === 'system') input.system = forceStringNoCtx(v, posDrvName);
          else if (key === 'outputHash') input.outputHash = forceStringNoCtx(v, posDrvName);
          else if (key === 'outputHashAlgo') input.outputHashAlgo = forceStringNoCtx(v, posDrvName);
          else if (key === 'outputHashMode') input.outputHashMode = at(() => parseOutputHashMode(forceStringNoCtx(v, posDrvName)), posDrvName);
          else if (key === 'outputs') {
            const ss = forceList(v, posDrvName).map((x) => forceStringNoCtx(x, posDrvName));
            at(() => checkOutputs(ss), posDrvName);
            input.outputs = ss;
          }
        } else {
          const s = coerceToString(st, v, ctx, true, true, pos ?? posDrvName);
          env.set(key, s);
          if (key === 'builder') input.builder = s;
          else if (key === 'system') input.system = s;
          else if (key === 'outputHash') input.outputHash = s;
          else if (key === 'outputHashAlgo') input.outputHashAlgo = s;
          else if (key === 'outputHashMode') input.outputHashMode = at(() => parseOutputHashMode(s), posDrvName);
          else if (key === 'outputs') {
            const ss = tokenizeOutputs(s);
            at(() => checkOutputs(ss), posDrvName);
            input.outputs = ss;
          }
        }
      } catch (e) {
        throw withTrace(e, `while evaluating the attribute '${key}' of the derivation '${drvName}'`, posDrvName);
      }
    }
    if (structured) env.set('__json', `{${json.join(',')}}`);
    input.context = ctx.set ?? [];

    const access = this.access;
    let r;
    try {
      r = derivationStrict(input, {
        storeDir: access.storeDir,
        hashes: this.hashes,
        readDerivation: (p) => access.readDerivation(p),
        queryReferences: (p) => access.queryReferences(p),
      });
    } catch (e) {
      throw derivationError(e, posDrvName);
    }
    for (const w of r.warnings) access.warn(w);
    const written = access.addTextToStore(`${drvName}.drv`, r.aterm, r.references, r.drv);
    if (written !== r.drvPath) throw new Error(`internal error: the store wrote '${written}' for '${r.drvPath}'`);
    if (posDrvName && !this.spans.has(r.drvPath)) this.spans.set(r.drvPath, posDrvName);
    const m = new Map<string, Lazy>();
    m.set('drvPath', new NixString(r.drvPath, new Set(['=' + r.drvPath])));
    for (const [o, p] of r.outputPaths) m.set(o, new NixString(p, new Set([`!${o}!${r.drvPath}`])));
    return new Attrs(m);
  }

  /** `toFile name contents` (Nix 2.8 prim_toFile). */
  toFile(_st: EvalState, span: Span | undefined, a: Lazy, b: Lazy): Value {
    const name = forceStringNoCtx(a, span);
    const ctx = new ContextBuilder();
    const contents = forceStringCtx(b, ctx, span);
    const { path, references } = at(() => toFilePath(name, contents, ctx.set ?? [], this.access.storeDir), span);
    const written = at(() => this.access.addTextToStore(name, contents, references), span);
    if (written !== path) throw new Error(`internal error: the store wrote '${written}' for '${path}'`);
    return new NixString(path, new Set([path]));
  }

  /** Nix's addPath: behind `builtins.path` and `filterSource`. */
  private addPath(
    st: EvalState,
    span: Span | undefined,
    name: string,
    path: string,
    filterFun: Value | undefined,
    method: FileIngestionMethod,
    expected: { algo: 'sha256'; bytes: Buffer } | undefined,
    context: ReadonlySet<string> | undefined,
  ): Value {
    try {
      if (context !== undefined && context.size > 0) st.realiseContext(context, span);
      const filter: StoreFilter | undefined =
        filterFun === undefined
          ? undefined
          : (p, type) => {
              const r = call2(filterFun, p, type, span);
              return forceBool(r, span);
            };
      let expectedPath: string | undefined;
      if (expected) expectedPath = makeFixedOutputPath(method, 'sha256', expected.bytes, name, [], false, this.access.storeDir);
      if (expectedPath !== undefined && this.access.isValidPath(expectedPath)) return new NixString(expectedPath, new Set([expectedPath]));
      if (st.host.pathType(path, false) === undefined) throw new ImgError('E_IO', `getting status of '${path}': No such file or directory`, span);
      // Nix 2.8 adds no references here, even for a path inside the store (checked with nix-instantiate).
      const dst = this.access.addPathToStore(path, { name, method, filter });
      if (expectedPath !== undefined && dst !== expectedPath) {
        throw new ImgError('E_HASH_MISMATCH', `store path mismatch in (possibly filtered) path added from '${path}'`, span);
      }
      return new NixString(dst, new Set([dst]));
    } catch (e) {
      throw withTrace(e, `while adding path '${path}'`, span);
    }
  }

  /** `filterSource pred path`. */
  filterSource(st: EvalState, span: Span | undefined, a: Lazy, b: Lazy): Value {
    const ctx = new ContextBuilder();
    const path = st.coerceToPath(b, span, ctx);
    const f = force(a);
    if (!isFunction(f) && !(f instanceof Attrs && f.m.has('__functor'))) {
      throw new ImgError('E_TYPE', `first argument in call to 'filterSource' is not a function but ${showType(f)}`, span);
    }
    return this.addPath(st, span, baseNameOf(path), path, f, 'recursive', undefined, ctx.set);
  }

  /** `path { path; name ? ; filter ? ; recursive ? true; sha256 ? ; }`. */
  path(st: EvalState, span: Span | undefined, a: Lazy): Value {
    const attrs = forceAttrs(a, span);
    let path = '';
    let name = '';
    let filterFun: Value | undefined;
    let method: FileIngestionMethod = 'recursive';
    let expected: { algo: 'sha256'; bytes: Buffer } | undefined;
    const ctx = new ContextBuilder();
    for (const n of attrs.names()) {
      const v = attrs.m.get(n)!;
      const pos = attrs.posOf(n) ?? span;
      if (n === 'path') path = st.coerceToPath(v, pos, ctx);
      else if (n === 'name') name = forceStringNoCtx(v, pos);
      else if (n === 'filter') filterFun = force(v);
      else if (n === 'recursive') method = forceBool(v, pos) ? 'recursive' : 'flat';
      else if (n === 'sha256') {
        const s = forceStringNoCtx(v, pos);
        if (s === '') {
          expected = { algo: 'sha256', bytes: Buffer.alloc(32) };
          this.access.warn(`found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='`);
        } else expected = at(() => parseHash(s, 'sha256') as { algo: 'sha256'; bytes: Buffer }, pos);
      } else throw new ImgError('E_EVAL', `unsupported argument '${n}' to 'addPath'`, pos);
    }
    if (path === '') throw new ImgError('E_EVAL', `'path' required`, span);
    if (name === '') name = baseNameOf(path);
    return this.addPath(st, span, name, path, filterFun, method, expected, ctx.set);
  }

  /** `storePath path` (Nix 2.8 prim_storePath; symlinks are not resolved). */
  storePath(st: EvalState, span: Span | undefined, a: Lazy): Value {
    const ctx = new ContextBuilder();
    const path = st.canonPath(st.coerceToPath(a, span, ctx));
    const dir = this.access.storeDir;
    if (!path.startsWith(dir + '/')) {
      throw new ImgError('E_EVAL', `path '${path}' is not in the Nix store`, span);
    }
    const p2 = at(() => toStorePath(path, dir).storePath, span);
    if (!this.access.readOnly && !this.access.isValidPath(p2)) {
      throw new ImgError('E_STORE', `path '${p2}' does not exist and cannot be created`, span);
    }
    ctx.addOne(p2);
    return new NixString(path, ctx.set!);
  }

  /** The built-ins, as an extension of the evaluator's global scope. */
  extension(): EvalExtension {
    const defs: BuiltinDef[] = [
      {
        name: 'derivationStrict',
        arity: 1,
        doc: 'derivationStrict attrs: writes the derivation described by attrs and returns { drvPath; <output> = path; } (with string context).',
        impl: (st: EvalState, span, a) => this.derivationStrict(st, span, a),
      },
      {
        name: 'toFile',
        arity: 2,
        doc: 'toFile name s: writes s to the store as a file called name (a text path; only plain store paths may be referenced) and returns its path.',
        impl: (st: EvalState, span, a, b) => this.toFile(st, span, a, b),
      },
      {
        name: 'path',
        arity: 1,
        doc: 'path { path; name ? baseNameOf path; filter ? ; recursive ? true; sha256 ? ; }: copies a path to the store (optionally filtered, named, flat or checked against a hash).',
        impl: (st: EvalState, span, a) => this.path(st, span, a),
      },
      {
        name: 'filterSource',
        arity: 2,
        doc: 'filterSource pred path: copies path to the store, keeping the entries e for which pred "<full path of e>" "<regular|directory|symlink|unknown>" is true.',
        impl: (st: EvalState, span, a, b) => this.filterSource(st, span, a, b),
      },
      {
        name: 'storePath',
        arity: 1,
        doc: 'storePath path: path (a store path or a file below one) with that store path as its string context; the path must be valid unless evaluating read-only.',
        impl: (st: EvalState, span, a) => this.storePath(st, span, a),
      },
    ];
    return { builtins: defs };
  }
}

/** Runs `f`, giving an ImgError it throws the span `span` when it has none. */
function at<T>(f: () => T, span: Span | undefined): T {
  try {
    return f();
  } catch (e) {
    throw derivationError(e, span);
  }
}

/** forceString that keeps the context (Nix's forceString(v, context, pos)). */
function forceStringCtx(x: Lazy, ctx: ContextBuilder, span: Span | undefined): string {
  const v = force(x);
  if (typeof v === 'string') return v;
  if (v instanceof NixString) {
    ctx.add(v.ctx);
    return v.s;
  }
  throw typeError(v, 'a string', span);
}

