// eval/value: the value model of the evaluator and its thunks. Designed for speed on V8:
// null/booleans are JS null/booleans; ints are JS numbers when safe and bigints (always int64)
// outside that range; floats are `NixFloat` (so 1 and 1.0 differ); strings without context are
// plain JS byte strings (one char = one byte) and `NixString` when they carry context; paths
// are `NixPath`; attribute sets are `Attrs` (a Map, sorted names cached); lists are JS arrays of
// lazy values; functions are `Lambda`, `PrimOp`, `PrimOpApp`.
// A thunk is data (code + env, or function + argument), never a JS closure per thunk.
// Never does IO, never prints.

import { ImgError } from '../base/error.js';
import type { SourceFile, Span } from '../base/source.js';

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

/**
 * The sorted names of attribute sets, shared by every set with the same names (a literal's
 * sets, `mapAttrs` results, `//` that only overrides). Lookups use a linear scan for small
 * shapes, a binary search at first, and a Map index built once a shape is looked up often.
 * `pos` are the definition positions of a literal's attributes (aligned with `keys`).
 */
export class Shape {
  index: Map<string, number> | undefined = undefined;
  lookups = 0;
  /**
   * `//` results with this shape on the left, by the right side's shape (compile.ts updateAttrs):
   * the same two shapes give the same result shape, so sets made by one `//` site share it.
   */
  updates: Map<Shape, ShapeUpdate> | undefined = undefined;
  constructor(
    readonly keys: readonly string[],
    readonly pos?: readonly (Span | undefined)[],
  ) {}
  indexOf(name: string): number {
    const k = this.keys;
    const n = k.length;
    if (n <= 8) {
      for (let i = 0; i < n; i++) if (k[i] === name) return i;
      return -1;
    }
    const ix = this.index;
    if (ix !== undefined) {
      const i = ix.get(name);
      return i === undefined ? -1 : i;
    }
    if (++this.lookups > 16) {
      const m = new Map<string, number>();
      for (let i = 0; i < n; i++) m.set(k[i]!, i);
      this.index = m;
      const i = m.get(name);
      return i === undefined ? -1 : i;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = k[mid]!;
      if (c === name) return mid;
      if (c < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

export const EMPTY_SHAPE = new Shape([], []);

/**
 * How `a // b` is laid out for one pair of shapes: the result's shape and, for each of its
 * names, where the value comes from (`i >= 0`: a's value i, `i < 0`: b's value `-1 - i`).
 */
export interface ShapeUpdate {
  readonly shape: Shape;
  readonly from: Int32Array;
}

/**
 * Where an attribute's positions come from: a literal's shape, a map (dynamic attributes,
 * builtins), or the two sides of `//` (only their position sources and the right side's names
 * are kept, never the left set itself).
 */
export type PosSource = Shape | ReadonlyMap<string, Span> | PosUpdate;
export interface PosUpdate {
  readonly l: PosSource | undefined;
  readonly r: PosSource | undefined;
  readonly rShape: Shape;
}

const MAP_VIEWS = new WeakMap<Attrs, Map<string, Lazy>>();

/** An attribute set: a shape (sorted names) and the values in the same order. */
export class Attrs {
  readonly shape: Shape;
  readonly vals: Lazy[];
  pos: PosSource | undefined;
  /** From a shape and values in its order (or, for convenience, from a Map of any order). */
  constructor(shape: Shape | ReadonlyMap<string, Lazy>, vals?: Lazy[], pos?: PosSource) {
    if (shape instanceof Shape) {
      this.shape = shape;
      this.vals = vals!;
    } else {
      const keys = [...shape.keys()].sort();
      const v = new Array<Lazy>(keys.length);
      for (let i = 0; i < keys.length; i++) v[i] = shape.get(keys[i]!)!;
      this.shape = keys.length === 0 ? EMPTY_SHAPE : new Shape(keys);
      this.vals = v;
    }
    this.pos = pos;
  }
  /**
   * A read-only Map view, for convenience outside the evaluator's hot paths (built once per set
   * and cached). Prefer `get`, `has`, `names()` and `vals`.
   */
  get m(): ReadonlyMap<string, Lazy> {
    let m = MAP_VIEWS.get(this);
    if (m === undefined) {
      m = new Map<string, Lazy>();
      const k = this.shape.keys;
      for (let i = 0; i < k.length; i++) m.set(k[i]!, this.vals[i]!);
      MAP_VIEWS.set(this, m);
    }
    return m;
  }
  static fromMap(m: ReadonlyMap<string, Lazy>, pos?: PosSource): Attrs {
    return new Attrs(m, undefined, pos);
  }
  /** A set from entries (later duplicates win). */
  static of(entries: Iterable<readonly [string, Lazy]>): Attrs {
    return Attrs.fromMap(new Map(entries as Iterable<[string, Lazy]>));
  }
  get(name: string): Lazy | undefined {
    const i = this.shape.indexOf(name);
    return i < 0 ? undefined : this.vals[i];
  }
  has(name: string): boolean {
    return this.shape.indexOf(name) >= 0;
  }
  /** The names in bytewise order (shared: do not modify). */
  names(): readonly string[] {
    return this.shape.keys;
  }
  get size(): number {
    return this.vals.length;
  }
  /** The position of an attribute's definition, when known. */
  posOf(name: string): Span | undefined {
    let p: PosSource | undefined = this.pos ?? this.shape;
    for (;;) {
      if (p === undefined) return undefined;
      if (p instanceof Shape) {
        if (p.pos === undefined) return undefined;
        const i = p.indexOf(name);
        return i < 0 ? undefined : p.pos[i];
      }
      if (p instanceof Map) return p.get(name);
      const u = p as PosUpdate;
      p = u.rShape.indexOf(name) >= 0 ? u.r : u.l;
    }
  }
}


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
  /** Inline cache of pattern binding: the last argument shape and each formal's index in it. */
  readonly ic: { shape: Shape | undefined; idx: Int32Array | undefined };
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
 * argument); once forced, `c` is null and `e` holds the value (three fields: thunks are the
 * most numerous objects). While being forced its code is BLACKHOLE; if forcing throws, the code
 * is restored so the thunk can be forced again.
 */
export class Thunk {
  c: ((e: any, a: any) => Value) | null;
  e: any;
  a: any;
  constructor(c: (e: any, a: any) => Value, e: any, a?: any) {
    this.c = c;
    this.e = e;
    this.a = a;
  }
  force(): Value {
    const c = this.c;
    if (c === null) return this.e;
    this.c = BLACKHOLE;
    try {
      const v = c(this.e, this.a);
      this.c = null;
      this.e = v;
      this.a = undefined;
      return v;
    } catch (err) {
      if (this.c === BLACKHOLE) this.c = c;
      if (err instanceof ImgError && err.code === 'E_INF_REC' && !err.span) err.span = (c as Code).span;
      throw err;
    }
  }
  get forced(): boolean {
    return this.c === null;
  }
  /** The value of a forced thunk. */
  get v(): Value {
    return this.e;
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
  t.e = v;
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

export function mkAttrs(entries: Iterable<readonly [string, Lazy]>): Attrs {
  return Attrs.of(entries);
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

/**
 * The `file` of a position as Nix 2.8 reports it (`__curPos`, `unsafeGetAttrPos`): the path of a
 * file, but for an expression given as a string (`-E`) the expression text itself.
 */
export function posFileName(f: SourceFile): string {
  return f.name === '(string)' ? f.text : f.name;
}
