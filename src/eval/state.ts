// eval/state: one evaluation session. Owns the global scope (builtins, constants, names added by
// other layers before parsing), the compiled-file cache of `import`, the search path of `<…>`,
// and the `EvalHost` through which ALL IO goes (files, environment, traces, the store).
// Never touches node:fs or the store directly: a missing host capability is a clear ImgError.

import { ImgError } from '../base/error.js';
import { SourceFile, type Span } from '../base/source.js';
import { parse } from '../syntax/index.js';
import { ALL_BUILTINS, GLOBAL_NAMES } from './builtins/index.js';
import { Compiler, type CompileState } from './compile.js';
import { canonPath } from './lib/paths.js';
import { COREPKGS, COREPKGS_PREFIX } from './corepkgs.js';
import { ContextBuilder, coerceToString, withTrace } from './ops.js';
import { Attrs, NixPath, NixString, PrimOp, Thunk, force, type BuiltinDef, type Env, type Lazy, type Value } from './value.js';
import { warmUp } from './warm-up.js';

export type FileType = 'regular' | 'directory' | 'symlink' | 'unknown';

/** Everything the evaluator needs from the outside world. Paths are byte strings (latin1). */
export interface EvalHost {
  /** The file's bytes as a latin1 string; ImgError E_IO when it cannot be read. */
  readFile(path: string): string;
  /** Entries of a directory with their types (not following symlinks). */
  readDir(path: string): [string, FileType][];
  /** The type of what is at `path` (following symlinks when asked), or undefined if nothing. */
  pathType(path: string, followSymlinks: boolean): FileType | undefined;
  getEnv(name: string): string | undefined;
  /** Writes one trace line (`trace: …`) to the user. */
  trace(message: string): void;
  /** Absolute current directory. */
  cwd(): string;
  /** Seconds since the epoch (builtins.currentTime). */
  currentTime(): number;
  /** Copies a path to the store and returns its store path (Nix's copyPathToStore). */
  copyPathToStore?(path: string): string;
  /** Makes the store paths of a context valid (import-from-derivation, readFile of outputs). */
  realiseContext?(context: ReadonlySet<string>): void;
}

export interface SearchPathEntry {
  readonly prefix: string;
  readonly path: string;
}

/** A way for other layers to extend the global scope (before anything is parsed). */
export interface EvalExtension {
  /** Builtins added to `builtins` (and to the global scope as `__name`, or `name` when `global`). Same-named ones replace the defaults. */
  readonly builtins?: readonly (BuiltinDef & { readonly global?: boolean })[];
  /** Extra global names (the prelude): each value is computed lazily, once. */
  readonly globals?: readonly { readonly name: string; readonly value: (st: EvalState) => Value }[];
}

export interface EvalOptions {
  readonly host: EvalHost;
  /** `-I` entries, then IMG_PATH, then NIX_PATH, in lookup order. */
  readonly searchPath?: readonly SearchPathEntry[];
  readonly extensions?: readonly EvalExtension[];
  readonly system?: string;
  readonly storeDir?: string;
  /** Home directory for `~/…` paths. */
  readonly home?: string;
  /** Run the warm-up program (once per process) when this state is made; default true. */
  readonly warmUp?: boolean;
}

export class EvalState implements CompileState {
  readonly host: EvalHost;
  readonly searchPath: readonly SearchPathEntry[];
  readonly storeDir: string;
  readonly system: string;
  readonly home: string | undefined;
  readonly globalNames: string[] = [];
  readonly globalValues: Lazy[] = [];
  readonly globalEnv: Env;
  readonly builtinsAttrs: Attrs;
  readonly defs = new Map<string, BuiltinDef>();
  readonly compiler: Compiler;
  private readonly importCache = new Map<string, Lazy>();
  private readonly copied = new Map<string, string>();

  constructor(opts: EvalOptions) {
    this.host = opts.host;
    this.searchPath = opts.searchPath ?? [];
    this.storeDir = opts.storeDir ?? '/nix/store';
    this.system = opts.system ?? 'x86_64-linux';
    this.home = opts.home;
    const defs = new Map<string, BuiltinDef & { global?: boolean }>();
    for (const d of ALL_BUILTINS) defs.set(d.name, d);
    for (const ext of opts.extensions ?? []) for (const d of ext.builtins ?? []) defs.set(d.name, d);
    const battrs = new Map<string, Lazy>();
    for (const d of defs.values()) {
      this.defs.set(d.name, d);
      let v: Lazy;
      if (d.arity === 0) {
        const impl = d.impl;
        v = new Thunk(() => impl(this, undefined, null, null, null), null);
      } else v = new PrimOp(d, this);
      battrs.set(d.name, v);
      const global = GLOBAL_NAMES.has(d.name) || d.global === true;
      this.globalNames.push(global ? d.name : `__${d.name}`);
      this.globalValues.push(v);
    }
    battrs.set('builtins', null);
    this.builtinsAttrs = new Attrs(battrs);
    this.builtinsAttrs.vals[this.builtinsAttrs.shape.indexOf('builtins')] = this.builtinsAttrs;
    this.globalNames.push('builtins');
    this.globalValues.push(this.builtinsAttrs);
    for (const ext of opts.extensions ?? []) {
      for (const g of ext.globals ?? []) {
        const f = g.value;
        const t = new Thunk(() => f(this), null);
        const i = this.globalNames.indexOf(g.name);
        if (i >= 0) this.globalValues[i] = t;
        else {
          this.globalNames.push(g.name);
          this.globalValues.push(t);
        }
      }
    }
    this.globalEnv = [null, ...this.globalValues] as unknown as Env;
    this.compiler = new Compiler(this);
    // once per process, before any user code: general type feedback for the evaluator (warm-up.ts)
    if (opts.warmUp !== false) warmUp(this);
  }

  canonPath(p: string): string {
    return canonPath(p);
  }

  /** Parses a source in the global scope (plus `extraScope` names for scopedImport); throws the first syntax error. */
  parseSource(file: SourceFile, extraScope?: readonly string[]) {
    const scopes = extraScope ? [this.globalNames, extraScope] : [this.globalNames];
    const r = parse(file, { scopes, home: this.home });
    if (!r.ok) {
      const [first, ...rest] = r.errors;
      if (!first) throw new ImgError('E_PARSE', 'syntax error', undefined);
      for (const e of rest) first.notes.push({ message: `also: ${e.message}`, span: e.span });
      throw first;
    }
    return r.expr;
  }

  /** Evaluates a source file's text in the global scope, to WHNF. */
  evalSource(file: SourceFile): Value {
    const expr = this.parseSource(file);
    return this.compiler.compile(expr)(this.globalEnv);
  }

  /** A lazy value for a source file (the prelude uses this). */
  lazySource(file: SourceFile): Lazy {
    return new Thunk(() => this.evalSource(file), null);
  }

  /** The file `import` reads for a path: a directory means its default.nix (or default.img). */
  resolveImportPath(path: string, span: Span | undefined): string {
    if (path.startsWith(COREPKGS_PREFIX) && COREPKGS.has(path.slice(COREPKGS_PREFIX.length))) return path;
    const t = this.host.pathType(path, true);
    if (t === undefined) throw new ImgError('E_IO', `getting status of '${path}': No such file or directory`, span);
    if (t === 'directory') {
      const nix = path === '/' ? '/default.nix' : `${path}/default.nix`;
      if (this.host.pathType(nix, true) !== undefined) return nix;
      const img = path === '/' ? '/default.img' : `${path}/default.img`;
      if (this.host.pathType(img, true) !== undefined) return img;
      return nix;
    }
    return path;
  }

  readSourceFile(path: string, span: Span | undefined): SourceFile {
    const core = path.startsWith(COREPKGS_PREFIX) ? COREPKGS.get(path.slice(COREPKGS_PREFIX.length)) : undefined;
    if (core !== undefined) return new SourceFile(path, core, COREPKGS_PREFIX.slice(0, -1));
    const text = this.host.readFile(path);
    const slash = path.lastIndexOf('/');
    const dir = slash <= 0 ? '/' : path.slice(0, slash);
    void span;
    return new SourceFile(path, text, dir);
  }

  /** `import path` (cached per resolved file). */
  importFile(path: string, span: Span | undefined): Value {
    const file = this.resolveImportPath(path, span);
    let v = this.importCache.get(file);
    if (v === undefined) {
      const st = this;
      v = new Thunk(() => {
        const src = st.readSourceFile(file, span);
        return st.evalSource(src);
      }, null);
      this.importCache.set(file, v);
    }
    try {
      return force(v);
    } catch (e) {
      throw withTrace(e, `while importing '${file}'`, span);
    }
  }

  /** `scopedImport attrs path`: not cached; the names of `attrs` shadow the globals. */
  scopedImport(attrs: Attrs, path: string, span: Span | undefined): Value {
    const file = this.resolveImportPath(path, span);
    try {
      const src = this.readSourceFile(file, span);
      const names = attrs.names();
      const expr = this.parseSource(src, names);
      const env = [this.globalEnv, ...names.map((n) => attrs.get(n)!)] as unknown as Env;
      return this.compiler.compile(expr)(env);
    } catch (e) {
      throw withTrace(e, `while importing '${file}'`, span);
    }
  }

  /** Nix's coerceToPath: a value that must denote an absolute path (context allowed). */
  coerceToPath(x: Lazy, span: Span | undefined, ctx?: ContextBuilder): string {
    const c = ctx ?? new ContextBuilder();
    const s = coerceToString(this, x, c, false, false, span);
    if (s === '' || s[0] !== '/') throw new ImgError('E_EVAL', `string '${s}' doesn't represent an absolute path`, span);
    return s;
  }

  /** A path argument of a file-reading builtin: its context must be realised first. */
  realPath(x: Lazy, span: Span | undefined): string {
    const ctx = new ContextBuilder();
    const p = this.coerceToPath(x, span, ctx);
    if (ctx.set !== undefined && ctx.set.size > 0) this.realiseContext(ctx.set, span);
    return p;
  }

  realiseContext(ctx: ReadonlySet<string>, span: Span | undefined): void {
    if (!this.host.realiseContext) throw new ImgError('E_STORE', `reading a path with context (${[...ctx][0]}) needs the store: not implemented yet`, span);
    this.host.realiseContext(ctx);
  }

  copyPathToStore(path: string, span: Span | undefined): string {
    const hit = this.copied.get(path);
    if (hit !== undefined) return hit;
    if (this.host.pathType(path, false) === undefined) throw new ImgError('E_IO', `getting status of '${path}': No such file or directory`, span);
    if (!this.host.copyPathToStore)
      throw new ImgError('E_STORE', `copying path '${path}' to the store needs the store: not implemented yet`, span);
    const r = this.host.copyPathToStore(path);
    this.copied.set(path, r);
    return r;
  }

  /** `<name/rest>` lookup over a search path (Nix's findFile). */
  findFile(entries: readonly SearchPathEntry[], name: string, span: Span | undefined): string {
    for (const e of entries) {
      let suffix: string;
      if (e.prefix === '') suffix = '/' + name;
      else {
        const s = e.prefix.length;
        if (!name.startsWith(e.prefix) || (name.length > s && name[s] !== '/')) continue;
        suffix = name.length === s ? '' : '/' + name.slice(s + 1);
      }
      const base = e.path.startsWith('/') ? e.path : this.canonPath(this.host.cwd() + '/' + e.path);
      if (this.host.pathType(base, true) === undefined) continue;
      const res = base + suffix;
      if (this.host.pathType(res, true) !== undefined) return this.canonPath(res);
    }
    if (name.startsWith('nix/') && COREPKGS.has(name.slice(4))) return COREPKGS_PREFIX + name.slice(4);
    throw new ImgError('E_SEARCH_PATH', `file '${name}' was not found in the Nix search path (add it using $NIX_PATH or -I)`, span);
  }

  /** `builtins.nixPath`. */
  nixPathValue(): Value {
    return this.searchPath.map(
      (e) =>
        Attrs.of([
            ['path', e.path],
            ['prefix', e.prefix],
          ]),
    );
  }

  /** Calls a host trace with a value printed the way `builtins.trace` does. */
  traceLine(s: string): void {
    this.host.trace(s);
  }

  pathValue(p: string): NixPath {
    return new NixPath(p);
  }

  stringWithContext(s: string, ctx: ReadonlySet<string>): NixString {
    return new NixString(s, ctx);
  }
}
