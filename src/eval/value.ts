// eval/value: the value model of the evaluator and its thunks. Designed for speed on V8:
// null/booleans are JS null/booleans; ints are JS numbers when safe and bigints (always int64)
// outside that range; floats are `NixFloat` (so 1 and 1.0 differ); strings without context are
// plain JS byte strings (one char = one byte) and `NixString` when they carry context; paths
// are `NixPath`; attribute sets are `Attrs` (a Map, sorted names cached); lists are JS arrays of
// lazy values; functions are `Lambda`, `PrimOp`, `PrimOpApp`.
// A thunk is data (code + env, or function + argument), never a JS closure per thunk.
// Never does IO, never prints.

import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';

/** An environment: slot 0 is the parent Env (null for the global scope), then the slots. */
export type Env = Lazy[] & { 0: Env | null };

/** Compiled code of an expression: evaluates it in `env` to weak head normal form. */
export type Code = ((env: Env) => Value) & { span?: Span };

export type Value =
  | null
  | boolean
  | number
  | bigint
  | NixFloat
  | string
  | NixString
  | NixPath
  | Attrs
  | List
  | Lambda
  | PrimOp
  | PrimOpApp;

/** A value or a thunk that yields one. */
export type Lazy = Value | Thunk;
export type List = Lazy[];

export class NixFloat {
  constructor(readonly v: number) {}
}

/** A string context element: `/nix/store/…` (path), `=/nix/store/….drv` (all outputs), `!out!/nix/store/….drv`. */
export type Context = ReadonlySet<string>;

/** A string with a non-empty context. */
export class NixString {
  constructor(
    readonly s: string,
    readonly ctx: Context,
  ) {}
}

export class NixPath {
  constructor(readonly p: string) {}
}

/** Where an attribute's positions come from (a literal's static map, or the two sides of `//`). */
export type PosSource = ReadonlyMap<string, Span> | { readonly l: Attrs; readonly r: Attrs };

export class Attrs {
  private sorted: string[] | undefined;
  constructor(
    readonly m: Map<string, Lazy>,
    public pos: PosSource | undefined = undefined,
  ) {}
  /** The names in bytewise order (cached). */
  names(): string[] {
    let s = this.sorted;
    if (s === undefined) {
      s = [...this.m.keys()];
      s.sort();
      this.sorted = s;
    }
    return s;
  }
  get size(): number {
    return this.m.size;
  }
  /** The position of an attribute's definition, when known. */
  posOf(name: string): Span | undefined {
    let p: PosSource | undefined = this.pos;
    for (;;) {
      if (p === undefined) return undefined;
      if (p instanceof Map) return p.get(name);
      const u = p as { l: Attrs; r: Attrs };
      p = u.r.m.has(name) ? u.r.pos : u.l.pos;
    }
  }
}

export const EMPTY_ATTRS_MAP: ReadonlyMap<string, Lazy> = new Map();

/** Compiled form of a lambda, shared by every closure made from it. */
export interface LambdaCode {
  readonly name: string | undefined;
  readonly span: Span;
  /** Simple `x: body` has no formals. */
  readonly formals: readonly FormalCode[] | undefined;
  readonly formalNames: ReadonlySet<string> | undefined;
  readonly ellipsis: boolean;
  /** The @-name (pattern) or the argument name (simple). */
  readonly arg: string | undefined;
  readonly body: Code;
  /** When the body is itself a lambda: its code (multi-argument calls bind directly). */
  readonly inner: LambdaCode | undefined;
}

export interface FormalCode {
  readonly name: string;
  readonly span: Span;
  /** Lazy default evaluated in the lambda's own Env, or undefined. */
  readonly def: ((env: Env) => Lazy) | undefined;
}

export class Lambda {
  constructor(
    readonly f: LambdaCode,
    readonly env: Env,
  ) {}
}

/** A builtin function's definition: one entry of a builtins table. */
export interface BuiltinDef {
  readonly name: string;
  readonly arity: number;
  readonly doc: string;
  /** Arguments are lazy; the implementation forces what it needs. */
  readonly impl: (st: any, span: Span | undefined, a: Lazy, b: Lazy, c: Lazy) => Value;
}

export class PrimOp {
  constructor(
    readonly def: BuiltinDef,
    readonly st: unknown,
  ) {}
  get name(): string {
    return this.def.name;
  }
  get arity(): number {
    return this.def.arity;
  }
}

export class PrimOpApp {
  constructor(
    readonly op: PrimOp,
    readonly args: readonly Lazy[],
  ) {}
}

// ---- thunks -----------------------------------------------------------------------------------

/** Marker code of a thunk being forced: forcing it again is infinite recursion. */
const BLACKHOLE: (e: unknown, a: unknown) => Value = () => {
  throw new ImgError('E_INF_REC', 'infinite recursion encountered');
};

/**
 * A suspended computation: `c(e, a)` computes the value (code + env, or apply + function +
 * argument). While being forced its code is BLACKHOLE; if forcing throws, the code is restored
 * so the thunk can be forced again.
 */
export class Thunk {
  c: ((e: any, a: any, s: Span | undefined) => Value) | null;
  e: any;
  a: any;
  /** Where the suspended call was made (apply thunks), for errors. */
  s: Span | undefined;
  v: Value = null;
  constructor(c: (e: any, a: any, s: Span | undefined) => Value, e: any, a?: any, s?: Span) {
    this.c = c;
    this.e = e;
    this.a = a;
    this.s = s;
  }
  force(): Value {
    const c = this.c;
    if (c === null) return this.v;
    this.c = BLACKHOLE;
    try {
      const v = c(this.e, this.a, this.s);
      this.v = v;
      this.c = null;
      this.e = null;
      this.a = null;
      return v;
    } catch (err) {
      if (this.c === BLACKHOLE) this.c = c;
      if (err instanceof ImgError && err.code === 'E_INF_REC' && !err.span) err.span = (c as Code).span ?? this.s;
      throw err;
    }
  }
  get forced(): boolean {
    return this.c === null;
  }
}

/** Forces a lazy value to weak head normal form. */
export function force(x: Lazy): Value {
  return x instanceof Thunk ? x.force() : x;
}

/** A thunk that already holds its value. */
export function evaluated(v: Value): Thunk {
  const t = new Thunk(BLACKHOLE, null);
  t.c = null;
  t.v = v;
  return t;
}

// ---- construction helpers ---------------------------------------------------------------------

export function mkInt(n: number | bigint): number | bigint {
  if (typeof n === 'bigint') {
    const w = BigInt.asIntN(64, n);
    return w >= -9007199254740991n && w <= 9007199254740991n ? Number(w) : w;
  }
  return n;
}

export function mkString(s: string, ctx: Context | undefined): string | NixString {
  return ctx === undefined || ctx.size === 0 ? s : new NixString(s, ctx);
}

export function mkAttrs(entries: Iterable<[string, Lazy]>): Attrs {
  return new Attrs(new Map(entries));
}

export function isInt(v: Value): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

export function isString(v: Value): v is string | NixString {
  return typeof v === 'string' || v instanceof NixString;
}

export function isFunction(v: Value): boolean {
  return v instanceof Lambda || v instanceof PrimOp || v instanceof PrimOpApp;
}

export function strOf(v: string | NixString): string {
  return typeof v === 'string' ? v : v.s;
}

export function ctxOf(v: string | NixString): Context | undefined {
  return typeof v === 'string' ? undefined : v.ctx;
}

/** `typeOf`'s answer. */
export function typeOf(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'int';
    case 'string':
      return 'string';
  }
  if (v instanceof NixFloat) return 'float';
  if (v instanceof NixString) return 'string';
  if (v instanceof NixPath) return 'path';
  if (v instanceof Attrs) return 'set';
  if (Array.isArray(v)) return 'list';
  return 'lambda';
}

/** Nix's showType: the type with an article, for error messages. */
export function showType(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'a Boolean';
    case 'number':
    case 'bigint':
      return 'an integer';
    case 'string':
      return 'a string';
  }
  if (v instanceof NixFloat) return 'a float';
  if (v instanceof NixString) return 'a string';
  if (v instanceof NixPath) return 'a path';
  if (v instanceof Attrs) return 'a set';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Lambda) return 'a function';
  if (v instanceof PrimOp) return 'a built-in function';
  if (v instanceof PrimOpApp) return 'a partially applied built-in function';
  return 'a thunk';
}
