// eval/ops: the operations every part of the evaluator shares: forcing to a given type (with
// Nix's error messages), int64/float arithmetic, equality (with 2.8's cell-identity quirk and
// derivation outPath comparison), ordering, coercion to strings with context, and function
// application (lambdas, primops, partial applications, `__functor`) with call traces.
// Never does IO itself: copying a path to the store goes through the state's host.

import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';
import { formatFloat, formatFloatFixed } from './lib/format-number.js';
import {
  Attrs,
  Lambda,
  NixFloat,
  NixPath,
  NixString,
  PrimOp,
  PrimOpApp,
  Thunk,
  force,
  mkInt,
  showType,
  type Code,
  type Context,
  type Env,
  type LambdaCode,
  type Lazy,
  type List,
  type Value,
} from './value.js';

/** How many trace frames an error collects at most (deep recursions stay cheap). */
export const TRACE_CAP = 400;

export function typeError(v: Value, expected: string, span: Span | undefined): ImgError {
  return new ImgError('E_TYPE', `value is ${showType(v)} while ${expected} was expected`, span);
}

export function evalError(code: string, message: string, span?: Span): ImgError {
  return new ImgError(code, message, span);
}

/** Adds a trace frame to an error passing through (and turns a JS stack overflow into one). */
/** A JS stack overflow (tested without a regex: there may be no stack left to compile one). */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.indexOf('call stack') >= 0;
}

export function withTrace(e: unknown, message: string, span: Span | undefined): unknown {
  if (e instanceof ImgError) {
    if (e.span === undefined) e.span = span;
    else if (e.trace.length < TRACE_CAP) e.addTrace(message, span);
    return e;
  }
  if (isStackOverflow(e)) {
    const err = new ImgError('E_STACK', 'stack overflow (possible infinite recursion)', span);
    err.addTrace(message, span);
    return err;
  }
  return e;
}

/** Turns a JS stack overflow into an ImgError (or returns the error unchanged). */
export function stackError(e: unknown, span?: Span): unknown {
  if (isStackOverflow(e)) return new ImgError('E_STACK', 'stack overflow (possible infinite recursion)', span);
  return e;
}

// ---- forcing to a type ------------------------------------------------------------------------

export function forceInt(x: Lazy, span: Span | undefined): number | bigint {
  const v = force(x);
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  throw typeError(v, 'an integer', span);
}

export function forceBool(x: Lazy, span: Span | undefined): boolean {
  const v = force(x);
  if (typeof v === 'boolean') return v;
  throw typeError(v, 'a Boolean', span);
}

export function forceAttrs(x: Lazy, span: Span | undefined): Attrs {
  const v = force(x);
  if (v instanceof Attrs) return v;
  throw typeError(v, 'a set', span);
}

export function forceList(x: Lazy, span: Span | undefined): List {
  const v = force(x);
  if (Array.isArray(v)) return v;
  throw typeError(v, 'a list', span);
}

export function forceFunction(x: Lazy, span: Span | undefined): Value {
  const v = force(x);
  if (v instanceof Lambda || v instanceof PrimOp || v instanceof PrimOpApp) return v;
  if (v instanceof Attrs && v.has('__functor')) return v;
  throw typeError(v, 'a function', span);
}

/** A string value (with its context); paths and other types are errors. */
export function forceStringValue(x: Lazy, span: Span | undefined): string | NixString {
  const v = force(x);
  if (typeof v === 'string' || v instanceof NixString) return v;
  throw typeError(v, 'a string', span);
}

export function forceString(x: Lazy, span: Span | undefined): string {
  const v = force(x);
  if (typeof v === 'string') return v;
  if (v instanceof NixString) return v.s;
  throw typeError(v, 'a string', span);
}

/** A string that must not refer to the store (attribute names, `getEnv`, …). */
export function forceStringNoCtx(x: Lazy, span: Span | undefined): string {
  const v = force(x);
  if (typeof v === 'string') return v;
  if (v instanceof NixString) {
    const first = [...v.ctx][0]!;
    throw new ImgError('E_EVAL', `the string '${v.s}' is not allowed to refer to a store path (such as '${contextPath(first)}')`, span);
  }
  throw typeError(v, 'a string', span);
}

export function forceFloatOrInt(x: Lazy, span: Span | undefined): number {
  const v = force(x);
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof NixFloat) return v.v;
  throw typeError(v, 'a float', span);
}

/** The store path a context element names. */
export function contextPath(c: string): string {
  if (c.startsWith('=')) return c.slice(1);
  if (c.startsWith('!')) return c.slice(c.indexOf('!', 1) + 1);
  return c;
}

// ---- arithmetic -------------------------------------------------------------------------------

function big(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

export function numAdd(a: Value, b: Value, span: Span | undefined): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    return Number.isSafeInteger(r) ? r : mkInt(BigInt(a) + BigInt(b));
  }
  return numSlow(a, b, span, 0);
}

export function numSub(a: Value, b: Value, span: Span | undefined): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    return Number.isSafeInteger(r) ? r : mkInt(BigInt(a) - BigInt(b));
  }
  return numSlow(a, b, span, 1);
}

export function numMul(a: Value, b: Value, span: Span | undefined): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    return Number.isSafeInteger(r) ? (r === 0 ? 0 : r) : mkInt(BigInt(a) * BigInt(b));
  }
  return numSlow(a, b, span, 2);
}

const INT64_MIN = -(2n ** 63n);

export function numDiv(a: Value, b: Value, span: Span | undefined): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    if (b === 0) throw new ImgError('E_DIV_ZERO', 'division by zero', span);
    if (a <= 2147483647 && a >= -2147483648 && b <= 2147483647 && b >= -2147483648) {
      const q = Math.trunc(a / b);
      return q === 0 ? 0 : q;
    }
    return mkInt(BigInt(a) / BigInt(b));
  }
  return numSlow(a, b, span, 3);
}

const OP_NAMES = ['add', 'subtract', 'multiply', 'divide'];

function numSlow(a: Value, b: Value, span: Span | undefined, op: number): Value {
  const ai = typeof a === 'number' || typeof a === 'bigint';
  const bi = typeof b === 'number' || typeof b === 'bigint';
  if (ai && bi) {
    const x = big(a as number | bigint);
    const y = big(b as number | bigint);
    switch (op) {
      case 0:
        return mkInt(x + y);
      case 1:
        return mkInt(x - y);
      case 2:
        return mkInt(x * y);
      default:
        if (y === 0n) throw new ImgError('E_DIV_ZERO', 'division by zero', span);
        if (x === INT64_MIN && y === -1n) throw new ImgError('E_EVAL', 'overflow in integer division', span);
        return mkInt(x / y);
    }
  }
  const af = a instanceof NixFloat;
  const bf = b instanceof NixFloat;
  if ((ai || af) && (bi || bf)) {
    const x = af ? (a as NixFloat).v : Number(a);
    const y = bf ? (b as NixFloat).v : Number(b);
    switch (op) {
      case 0:
        return new NixFloat(x + y);
      case 1:
        return new NixFloat(x - y);
      case 2:
        return new NixFloat(x * y);
      default:
        if (y === 0) throw new ImgError('E_DIV_ZERO', 'division by zero', span);
        return new NixFloat(x / y);
    }
  }
  if (!(ai || af)) throw typeError(a, op === 0 ? 'an integer' : 'an integer', span).at(span);
  throw typeError(b, 'an integer', span);
}

// ---- comparison -------------------------------------------------------------------------------

/** `a < b` (Nix's CompareValues). */
export function lessThan(a: Value, b: Value, span: Span | undefined): boolean {
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) return (a as number) < (b as number);
  if (typeof a === 'string' && typeof b === 'string') return a < b;
  if (a instanceof NixFloat) {
    if (b instanceof NixFloat) return a.v < b.v;
    if (tb === 'number' || tb === 'bigint') return a.v < Number(b);
  } else if (b instanceof NixFloat && (ta === 'number' || ta === 'bigint')) return Number(a) < b.v;
  if ((typeof a === 'string' || a instanceof NixString) && (typeof b === 'string' || b instanceof NixString)) {
    return (typeof a === 'string' ? a : a.s) < (typeof b === 'string' ? b : b.s);
  }
  if (a instanceof NixPath && b instanceof NixPath) return a.p < b.p;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; ; i++) {
      if (i === b.length) return false;
      if (i === a.length) return true;
      if (!eqLazy(a[i]!, b[i]!, span)) return lessThan(force(a[i]!), force(b[i]!), span);
    }
  }
  throw new ImgError('E_TYPE', `cannot compare ${showType(a)} with ${showType(b)}`, span);
}

// ---- equality ---------------------------------------------------------------------------------

/** Equality of two cells: the same cell is equal to itself (2.8 quirk), then by value. */
export function eqLazy(a: Lazy, b: Lazy, span: Span | undefined): boolean {
  if (a === b && (typeof a === 'object' || typeof a === 'function')) {
    force(a);
    return true;
  }
  return eqValues(force(a), force(b), span);
}

export function isDerivation(a: Attrs): boolean {
  const t = a.get('type');
  if (t === undefined) return false;
  const v = force(t);
  return (typeof v === 'string' && v === 'derivation') || (v instanceof NixString && v.s === 'derivation');
}

export function eqValues(a: Value, b: Value, span: Span | undefined): boolean {
  if (typeof a === 'number' || typeof a === 'bigint') {
    if (typeof b === 'number' || typeof b === 'bigint') return a == b;
    if (b instanceof NixFloat) return Number(a) === b.v;
    return false;
  }
  if (typeof a === 'string') {
    if (typeof b === 'string') return a === b;
    return b instanceof NixString && a === b.s;
  }
  if (a === null || typeof a === 'boolean') return a === b;
  if (a instanceof NixString) {
    if (typeof b === 'string') return a.s === b;
    return b instanceof NixString && a.s === b.s;
  }
  if (a instanceof NixFloat) {
    if (b instanceof NixFloat) return a.v === b.v;
    if (typeof b === 'number' || typeof b === 'bigint') return a.v === Number(b);
    return false;
  }
  if (a instanceof NixPath) return b instanceof NixPath && a.p === b.p;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!eqLazy(a[i]!, b[i]!, span)) return false;
    return true;
  }
  if (a instanceof Attrs) {
    if (!(b instanceof Attrs)) return false;
    if (isDerivation(a) && isDerivation(b)) {
      const i = a.get('outPath');
      const j = b.get('outPath');
      if (i !== undefined && j !== undefined) return eqLazy(i, j, span);
    }
    if (a.size !== b.size) return false;
    if (a.shape === b.shape) {
      for (let i = 0; i < a.vals.length; i++) if (!eqLazy(a.vals[i]!, b.vals[i]!, span)) return false;
      return true;
    }
    // pairwise in name order, as Nix 2.8 (a value may be forced before a later name differs)
    const an = a.names();
    const bn = b.names();
    for (let i = 0; i < an.length; i++) {
      if (an[i] !== bn[i]) return false;
      if (!eqLazy(a.vals[i]!, b.vals[i]!, span)) return false;
    }
    return true;
  }
  // functions are never equal (except through the cell identity above)
  if (a instanceof Lambda || a instanceof PrimOp || a instanceof PrimOpApp) return false;
  return false;
}

// ---- strings and context ----------------------------------------------------------------------

/** Collects string contexts while a string is built. */
export class ContextBuilder {
  set: Set<string> | undefined;
  add(c: Context | undefined): void {
    if (c === undefined || c.size === 0) return;
    if (this.set === undefined) this.set = new Set(c);
    else for (const x of c) this.set.add(x);
  }
  addOne(c: string): void {
    (this.set ??= new Set()).add(c);
  }
}

/** What coercion needs from the evaluator state. */
export interface CoerceState {
  copyPathToStore(path: string, span: Span | undefined): string;
}

/**
 * Coerces a value to a string (Nix's coerceToString): strings, paths (copied to the store when
 * `copyToStore`), sets with `__toString` or `outPath`; with `coerceMore` also ints, floats,
 * booleans, null and lists.
 */
export function coerceToString(
  st: CoerceState,
  x: Lazy,
  ctx: ContextBuilder | undefined,
  coerceMore: boolean,
  copyToStore: boolean,
  span: Span | undefined,
): string {
  const v = force(x);
  if (typeof v === 'string') return v;
  if (v instanceof NixString) {
    ctx?.add(v.ctx);
    return v.s;
  }
  if (v instanceof NixPath) {
    if (copyToStore) {
      const sp = st.copyPathToStore(v.p, span);
      ctx?.addOne(sp);
      return sp;
    }
    return v.p;
  }
  if (v instanceof Attrs) {
    const f = v.get('__toString');
    if (f !== undefined) {
      const r = callValue(force(f), [v], span);
      return coerceToString(st, r, ctx, coerceMore, copyToStore, span);
    }
    const o = v.get('outPath');
    if (o !== undefined) return coerceToString(st, o, ctx, coerceMore, copyToStore, span);
    throw new ImgError('E_COERCE', 'cannot coerce a set to a string', span);
  }
  if (coerceMore) {
    if (v === null || v === false) return '';
    if (v === true) return '1';
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (v instanceof NixFloat) return formatFloatF(v.v);
    if (Array.isArray(v)) {
      let out = '';
      for (let i = 0; i < v.length; i++) {
        out += coerceToString(st, v[i]!, ctx, coerceMore, copyToStore, span);
        if (i < v.length - 1) {
          const e = force(v[i]!);
          if (!Array.isArray(e) || e.length !== 0) out += ' ';
        }
      }
      return out;
    }
  }
  throw new ImgError('E_COERCE', `cannot coerce ${showType(v)} to a string`, span);
}

/** `%f` (toString of a float). */
export const formatFloatF = formatFloatFixed;

/** C++ ostream default format (`%g`, 6 significant digits): how floats print. */
export const formatFloatG = formatFloat;

// ---- function application ---------------------------------------------------------------------

function lambdaLabel(lc: LambdaCode): string {
  return lc.name !== undefined ? `while calling '${lc.name}'` : 'while calling anonymous lambda';
}

/**
 * withTrace for a lambda call: the label is made only when a frame is added (a runaway
 * recursion unwinds through ~400k calls once the trace is full).
 */
export function withCallTrace(e: unknown, lc: LambdaCode, span: Span | undefined): unknown {
  if (e instanceof ImgError && e.span !== undefined && e.trace.length >= TRACE_CAP) return e;
  return withTrace(e, lambdaLabel(lc), span);
}

/** Binds one argument to a lambda: the lambda's new Env. */
export function bindArg(lc: LambdaCode, env: Env, arg: Lazy, span: Span | undefined): Env {
  const formals = lc.formals;
  if (formals === undefined) return [env, arg] as unknown as Env;
  const a = force(arg);
  if (!(a instanceof Attrs)) {
    throw typeError(a, 'a set', span).addTrace(lambdaLabel(lc), span);
  }
  const n = formals.length;
  const env2 = new Array(n + 1 + (lc.arg !== undefined ? 1 : 0)) as unknown as Env;
  env2[0] = env;
  // where each formal is in the argument's shape: cached per lambda for the last shape seen
  const ic = lc.ic;
  let idx: Int32Array;
  if (ic.shape === a.shape) idx = ic.idx!;
  else {
    idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = a.shape.indexOf(formals[i]!.name);
    ic.shape = a.shape;
    ic.idx = idx;
  }
  const vals = a.vals;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const j = idx[i]!;
    if (j >= 0) {
      env2[i + 1] = vals[j]!;
      used++;
    } else if (formals[i]!.def === undefined) {
      const who = lc.name !== undefined ? `function '${lc.name}'` : 'anonymous function';
      throw new ImgError('E_CALL', `${who} called without required argument '${formals[i]!.name}'`, span, [
        { message: 'the function is defined here', span: lc.span },
      ]);
    }
    // else left unset: filled below, once every given argument is bound (defaults see the whole Env)
  }
  if (lc.arg !== undefined) env2[n + 1] = a;
  if (used < n) {
    for (let i = 0; i < n; i++) if (idx[i]! < 0) env2[i + 1] = formals[i]!.def!(env2);
  }
  if (!lc.ellipsis && a.size > used) {
    const names = lc.formalNames!;
    for (const k of a.names()) {
      if (!names.has(k)) {
        const who = lc.name !== undefined ? `function '${lc.name}'` : 'anonymous function';
        throw new ImgError('E_CALL', `${who} called with unexpected argument '${k}'`, span, [
          { message: 'the function is defined here', span: lc.span },
        ]);
      }
    }
  }
  return env2;
}

/** Applies a function value to one argument. */
export function call1(f: Value, a: Lazy, span: Span | undefined): Value {
  if (f instanceof Lambda) {
    const lc = f.f;
    const env2 = lc.formals === undefined ? ([f.env, a] as unknown as Env) : bindArg(lc, f.env, a, span);
    try {
      return lc.body(env2);
    } catch (e) {
      throw withCallTrace(e, lc, span);
    }
  }
  return callValue(f, [a], span);
}

/** Applies a function value to two arguments (no intermediate value for curried lambdas). */
export function call2(f: Value, a: Lazy, b: Lazy, span: Span | undefined): Value {
  if (f instanceof Lambda) {
    const lc = f.f;
    const inner = lc.inner;
    if (inner !== undefined) {
      const env2 = lc.formals === undefined ? ([f.env, a] as unknown as Env) : bindArg(lc, f.env, a, span);
      const env3 = inner.formals === undefined ? ([env2, b] as unknown as Env) : bindArg(inner, env2, b, span);
      try {
        return inner.body(env3);
      } catch (e) {
        throw withCallTrace(e, lc, span);
      }
    }
    return call1(call1(f, a, span), b, span);
  }
  if (f instanceof PrimOp && f.def.arity === 2) {
    try {
      return f.def.impl(f.st, span, a, b, null);
    } catch (e) {
      throw withTrace(e, `while calling the '${f.def.name}' builtin`, span);
    }
  }
  return callValue(f, [a, b], span);
}

/** Applies `f` to `args[from..]`, left to right. */
export function callValue(f: Value, args: readonly Lazy[], span: Span | undefined, from = 0): Value {
  let i = from;
  const n = args.length;
  while (i < n) {
    if (f instanceof Lambda) {
      let lc = f.f;
      let env = bindArg(lc, f.env, args[i++]!, span);
      const outer = lc;
      while (i < n && lc.inner !== undefined) {
        lc = lc.inner;
        env = bindArg(lc, env, args[i++]!, span);
      }
      try {
        f = lc.body(env);
      } catch (e) {
        throw withCallTrace(e, outer, span);
      }
    } else if (f instanceof PrimOp) {
      const ar = f.def.arity;
      if (n - i >= ar) {
        const a0 = args[i] ?? null;
        const a1 = ar > 1 ? args[i + 1]! : null;
        const a2 = ar > 2 ? args[i + 2]! : null;
        i += ar;
        const op: PrimOp = f;
        try {
          f = op.def.impl(op.st, span, a0, a1, a2);
        } catch (e) {
          throw withTrace(e, `while calling the '${op.def.name}' builtin`, span);
        }
      } else {
        return new PrimOpApp(f, args.slice(i));
      }
    } else if (f instanceof PrimOpApp) {
      const op = f.op;
      const have = f.args.length;
      const need = op.def.arity - have;
      if (n - i >= need) {
        const all = f.args.concat(args.slice(i, i + need));
        i += need;
        try {
          f = op.def.impl(op.st, span, all[0]!, all[1] ?? null, all[2] ?? null);
        } catch (e) {
          throw withTrace(e, `while calling the '${op.def.name}' builtin`, span);
        }
      } else {
        return new PrimOpApp(op, f.args.concat(args.slice(i)));
      }
    } else if (f instanceof Attrs) {
      const fn = f.get('__functor');
      if (fn === undefined) throw new ImgError('E_TYPE', 'attempt to call something which is not a function but a set', span);
      const self = f;
      try {
        f = callValue(force(fn), [self, args[i++]!], span);
      } catch (e) {
        throw withTrace(e, 'while calling a functor (a set with __functor)', span);
      }
    } else {
      throw new ImgError('E_TYPE', `attempt to call something which is not a function but ${showType(f)}`, span);
    }
  }
  return f;
}

/** `f a` for a forced `f`: a plain lambda is entered here (no call1 frame), the rest by call1. */
function apply1(f: Value, a: Lazy, span: Span | undefined): Value {
  if (f instanceof Lambda && f.f.formals === undefined) {
    const lc = f.f;
    try {
      return lc.body([f.env, a] as unknown as Env);
    } catch (e) {
      throw withCallTrace(e, lc, span);
    }
  }
  return call1(f, a, span);
}

/** The apply-thunk code: `new Thunk(APPLY1, f, a)` is the suspended call `f a`. */
export const APPLY1 = (f: Lazy, a: Lazy): Value => apply1(force(f), a, undefined);

/**
 * The apply-thunk code for calls made by a builtin called at `span` (one closure per builtin
 * call, shared by all the thunks it makes): errors point there.
 */
export function applier(span: Span | undefined): (f: Lazy, a: Lazy) => Value {
  if (span === undefined) return APPLY1;
  const ap = (f: Lazy, a: Lazy): Value => apply1(force(f), a, span);
  (ap as unknown as Code).span = span;
  return ap;
}

/** A lazy call `f a` (a thunk, no closure). */
export function lazyCall(f: Lazy, a: Lazy, span: Span | undefined): Thunk {
  return new Thunk(applier(span), f, a);
}

/** The code of a suspended `f a b` (`new Thunk(applier2(span), f, [a, b])`). */
export function applier2(span: Span | undefined): (f: Lazy, ab: [Lazy, Lazy]) => Value {
  const ap = (f: Lazy, ab: [Lazy, Lazy]): Value => call2(force(f), ab[0], ab[1], span);
  (ap as unknown as Code).span = span;
  return ap;
}
export function lazyCall2(f: Lazy, a: Lazy, b: Lazy, span: Span | undefined): Thunk {
  return new Thunk(applier2(span), f, [a, b]);
}
