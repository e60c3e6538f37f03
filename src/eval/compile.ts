// eval/compile: compiles the resolved core AST (syntax/ast.ts) once into JS closures
// `(env) => value` (about 3x faster than a switch over node kinds on V8). Lazy positions get a
// thunk (code + env) only when needed: literals, variables and lambdas never get one (Nix's
// maybeThunk). Fast paths: arithmetic and comparison through the global `__sub`/`__lessThan`…
// use the builtin directly, calls of global primops call their implementation directly,
// `builtins.x` is resolved at compile time, curried lambdas bind several arguments at once.
// Never parses and never does IO.

import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';
import type * as A from '../syntax/ast.js';
import {
  ContextBuilder,
  call1,
  call2,
  callValue,
  coerceToString,
  eqValues,
  forceBool,
  forceStringNoCtx,
  lessThan,
  numAdd,
  numDiv,
  numMul,
  numSub,
  typeError,
  withCallTrace,
  withTrace,
  type CoerceState,
} from './ops.js';
import {
  Attrs,
  Shape,
  type PosUpdate,
  type ShapeUpdate,
  Lambda,
  NixFloat,
  NixPath,
  NixString,
  PrimOp,
  Thunk,
  force,
  mkString,
  posFileName,
  showType,
  type Code,
  type Env,
  type FormalCode,
  type LambdaCode,
  type Lazy,
  type Value,
} from './value.js';

/** Compiled lazy position: yields a value or a thunk without evaluating anything. */
export type LazyCode = (env: Env) => Lazy;
/** `Compiler.peek`'s code: a value, or undefined when a thunk is needed. */
type PeekCode = (env: Env) => Value | undefined;

/** What the compiler needs from the evaluator state. */
export interface CompileState extends CoerceState {
  /** Values of the global scope, by slot. */
  readonly globalValues: readonly Lazy[];
  /** The `builtins` set (for compile-time `builtins.x`). */
  readonly builtinsAttrs: Attrs;
  /** Canonicalises an absolute path (`.`/`..`, duplicate slashes). */
  canonPath(p: string): string;
}

function up(env: Env, level: number): Env {
  while (level-- > 0) env = env[0] as Env;
  return env;
}

function unsetVariable(name: string, span: Span): ImgError {
  return new ImgError('E_INF_REC', `infinite recursion encountered (variable '${name}' used before it is defined)`, span);
}

/**
 * The value of a local variable (a module function, so V8 inlines it at every use: fused
 * operators read variables without a call through a closure variable, whose target varies).
 */
function lookup(env: Env, level: number, s: number, name: string, span: Span): Value {
  while (level-- > 0) env = env[0] as Env;
  const x = env[s];
  if (x instanceof Thunk) return x.force();
  if (x === undefined) throw unsetVariable(name, span);
  return x;
}

/** A local (non-global) variable, for fused operators. */
function localVar(e: A.Expr): A.Var | undefined {
  return e.kind === 'Var' && !e.global ? e : undefined;
}

/** A small integer literal (a JS number), for fused operators. */
function intLiteral(e: A.Expr): number | undefined {
  return e.kind === 'Int' && typeof e.value === 'number' ? e.value : undefined;
}

function attrPathText(path: readonly A.AttrName[], upto: number, names: readonly (string | undefined)[]): string {
  const parts: string[] = [];
  for (let i = 0; i <= upto; i++) parts.push(names[i] ?? ('name' in path[i]! ? (path[i] as { name: string }).name : '?'));
  return parts.join('.');
}

export class Compiler {
  constructor(readonly st: CompileState) {}

  /** Compiles an expression to code that evaluates it to WHNF. */
  compile(e: A.Expr): Code {
    const c = this.compileNode(e);
    c.span = e.span;
    return c;
  }

  /**
   * Compiles an expression in a lazy position. `early` false: never evaluated when made (a rec
   * set with `__overrides` rebinds its variables after making its values).
   */
  lazy(e: A.Expr, early = true): LazyCode {
    switch (e.kind) {
      case 'Int': {
        const v = e.value;
        return () => v;
      }
      case 'Float': {
        const v = new NixFloat(e.value);
        return () => v;
      }
      case 'Str': {
        const v = e.value;
        return () => v;
      }
      case 'Path': {
        const v = new NixPath(e.value);
        return () => v;
      }
      case 'Var': {
        if (e.global) {
          const g = this.st.globalValues[e.slot];
          if (g === undefined) throw new Error(`internal: global slot ${e.slot} (${e.name}) is unbound`);
          return () => g;
        }
        const code = this.compile(e);
        const s = e.slot + 1;
        const l = e.level;
        if (l === 0)
          return (env) => {
            const x = env[s];
            return x !== undefined ? x : new Thunk(code, env);
          };
        if (l === 1)
          return (env) => {
            const x = (env[0] as Env)[s];
            return x !== undefined ? x : new Thunk(code, env);
          };
        return (env) => {
          const x = up(env, l)[s];
          return x !== undefined ? x : new Thunk(code, env);
        };
      }
      case 'WithVar': {
        const code = this.compile(e);
        const levels = e.withLevels;
        const name = e.name;
        return (env) => {
          for (const l of levels) {
            const w = up(env, l)[1];
            if (w instanceof Thunk && !w.forced) return new Thunk(code, env);
            const a = w instanceof Thunk ? w.e : w;
            if (!(a instanceof Attrs)) return new Thunk(code, env);
            const x = a.get(name);
            if (x !== undefined) return x;
          }
          return new Thunk(code, env);
        };
      }
      case 'Lambda': {
        const lc = this.lambdaCode(e);
        return (env) => new Lambda(lc, env);
      }
      default: {
        // a small set or list literal of cheap parts is made at once (no thunk; making it
        // cannot fail, and its parts are lazy as ever)
        if (early && this.eagerLiteral(e)) return this.compile(e);
        const code = this.compile(e);
        const peek = early ? this.peek(e) : undefined;
        if (peek !== undefined)
          return (env) => {
            const v = peek(env);
            return v !== undefined ? v : new Thunk(code, env);
          };
        return (env) => new Thunk(code, env);
      }
    }
  }

  /**
   * For a cheap expression in a lazy position (`i + 1`, `i * 2`, `"obj-${name}"`,
   * `toString i`): code that gives its value when all its inputs are already values and the
   * result is certain (an int in the safe range, a plain string), so no thunk is needed;
   * otherwise undefined (the caller makes the thunk). It never forces, never throws and has no
   * effect, so evaluating early is invisible. Undefined when `e` is not such an expression.
   */
  private peek(e: A.Expr): PeekCode | undefined {
    switch (e.kind) {
      case 'Add':
      case 'Arith': {
        if (e.kind === 'Arith' && !this.isGlobalBuiltin(e.fn, e.op === '-' ? 'sub' : e.op === '*' ? 'mul' : 'div')) return undefined;
        const l = this.peekOperand(e.lhs);
        const r = this.peekOperand(e.rhs);
        if (l === undefined || r === undefined) return undefined;
        if (e.kind === 'Add')
          return (env) => {
            const a = l(env);
            const b = r(env);
            if (typeof a === 'number' && typeof b === 'number') {
              const s = a + b;
              return s <= 9007199254740991 && s >= -9007199254740991 ? s : undefined;
            }
            if (typeof a === 'string' && typeof b === 'string') return a + b;
            return undefined;
          };
        if (e.op === '/')
          return (env) => {
            // as numDiv's int fast path; a zero divisor is left to the thunk (it throws)
            const a = l(env);
            const b = r(env);
            if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return undefined;
            if (a > 2147483647 || a < -2147483648 || b > 2147483647 || b < -2147483648) return undefined;
            const q = Math.trunc(a / b);
            return q === 0 ? 0 : q;
          };
        const mul = e.op === '*';
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a !== 'number' || typeof b !== 'number') return undefined;
          const s = mul ? a * b : a - b;
          // 0 * -1 is -0 in JS: an int zero is +0 (as numMul)
          return s < 9007199254740991 && s > -9007199254740991 ? (s === 0 ? 0 : s) : undefined;
        };
      }
      case 'Interp': {
        if (e.isPath || e.parts.length === 0) return undefined;
        const parts: PeekCode[] = [];
        for (const p of e.parts) {
          const c = this.peekOperand(p);
          if (c === undefined) return undefined;
          parts.push(c);
        }
        const n = parts.length;
        return (env) => {
          let s = '';
          for (let i = 0; i < n; i++) {
            const v = parts[i]!(env);
            if (typeof v !== 'string') return undefined;
            s += v;
          }
          return s;
        };
      }
      case 'Eq': {
        const l = this.peekOperand(e.lhs);
        const r = this.peekOperand(e.rhs);
        if (l === undefined || r === undefined) return undefined;
        const neg = e.negated;
        return (env) => {
          const a = l(env);
          const b = r(env);
          if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) return neg ? a !== b : a === b;
          return undefined;
        };
      }
      case 'If': {
        const c = this.peekOperand(e.cond);
        const t = this.peekOperand(e.then);
        const f = this.peekOperand(e.else);
        if (c === undefined || t === undefined || f === undefined) return undefined;
        return (env) => {
          const v = c(env);
          return v === true ? t(env) : v === false ? f(env) : undefined;
        };
      }
      case 'Select': {
        // `d.name`, `it.nested.x`: the value when every set on the path is a value and holds
        // the name with an evaluated value (a one-entry shape cache per step)
        // `acc.${k}`: a dynamic step's name when it peeks to a plain string
        if (e.fallback !== undefined) return undefined;
        const names: (string | undefined)[] = [];
        const dyn: (PeekCode | undefined)[] = [];
        for (const p of e.path) {
          if ('name' in p) {
            names.push(p.name);
            dyn.push(undefined);
          } else {
            const c = this.peekOperand(p.expr);
            if (c === undefined) return undefined;
            names.push(undefined);
            dyn.push(c);
          }
        }
        const t = this.peekOperand(e.target);
        if (t === undefined) return undefined;
        const n = names.length;
        const cShapes = new Array<Shape | undefined>(n).fill(undefined);
        const cIdx = new Int32Array(n);
        return (env) => {
          let v = t(env);
          for (let i = 0; i < n; i++) {
            if (!(v instanceof Attrs)) return undefined;
            const sh = v.shape;
            let j: number;
            const name = names[i];
            if (name === undefined) {
              const dn = dyn[i]!(env);
              if (typeof dn !== 'string') return undefined;
              j = sh.indexOf(dn);
            } else if (sh === cShapes[i]) j = cIdx[i]!;
            else {
              j = sh.indexOf(name);
              cShapes[i] = sh;
              cIdx[i] = j;
            }
            if (j < 0) return undefined;
            const x: Lazy = v.vals[j]!;
            if (x instanceof Thunk) {
              if (x.c !== null) return undefined;
              v = x.e as Value;
            } else v = x;
          }
          return v;
        };
      }
      case 'Call': {
        if (e.args.length !== 1 || e.fn.kind !== 'Var' || !this.isGlobalBuiltin(e.fn, 'toString')) return undefined;
        const a = this.peekOperand(e.args[0]!);
        if (a === undefined) return undefined;
        return (env) => {
          const v = a(env);
          if (typeof v === 'number' || typeof v === 'bigint') return String(v);
          return typeof v === 'string' ? v : undefined;
        };
      }
      default:
        return undefined;
    }
  }

  private eagerMemo = new WeakMap<A.Expr, boolean>();

  /**
   * A non-rec set literal without dynamic names (at most 16 bindings) or a list literal (at
   * most 16 items) whose parts are literals, variables, lambdas, `peek`able expressions or
   * such literals themselves: `lazy` makes it when reached instead of a thunk.
   */
  private eagerLiteral(e: A.Expr): boolean {
    if (e.kind !== 'Attrs' && e.kind !== 'List') return false;
    let r = this.eagerMemo.get(e);
    if (r === undefined) {
      const parts = e.kind === 'List' ? e.items : e.rec || e.dynamic.length > 0 ? undefined : e.attrs.map((b) => b.value);
      r = parts !== undefined && parts.length <= 16 && parts.every((p) => this.cheapLazy(p));
      this.eagerMemo.set(e, r);
    }
    return r;
  }

  /** True when `lazy(p)` makes no thunk or only one that `peek` may avoid. */
  private cheapLazy(p: A.Expr): boolean {
    switch (p.kind) {
      case 'Int':
      case 'Float':
      case 'Str':
      case 'Path':
      case 'Var':
      case 'Lambda':
        return true;
      case 'Attrs':
      case 'List':
        return this.eagerLiteral(p);
      default:
        return this.peek(p) !== undefined;
    }
  }

  /** `peek` for an operand: also literals and local variables holding a value. */
  private peekOperand(e: A.Expr): PeekCode | undefined {
    switch (e.kind) {
      case 'Int':
      case 'Str': {
        const v = e.value;
        return () => v;
      }
      case 'Var': {
        if (e.global) {
          const g = this.st.globalValues[e.slot];
          if (g === undefined || g instanceof Thunk) return undefined;
          return () => g;
        }
        const s = e.slot + 1;
        const l = e.level;
        return (env) => {
          let x = up(env, l)[s];
          if (x instanceof Thunk) x = x.c === null ? x.e : undefined;
          return x as Value | undefined;
        };
      }
      default:
        return this.peek(e);
    }
  }

  /** True when `lazy(e)` makes a plain `new Thunk(compile(e), env)` (no literal, variable, lambda or peek). */
  private needsThunk(e: A.Expr): boolean {
    switch (e.kind) {
      case 'Int':
      case 'Float':
      case 'Str':
      case 'Path':
      case 'Var':
      case 'WithVar':
      case 'Lambda':
        return false;
      default:
        return !this.eagerLiteral(e) && this.peek(e) === undefined;
    }
  }

  private compileNode(e: A.Expr): Code {
    switch (e.kind) {
      case 'Int': {
        const v = e.value;
        return () => v;
      }
      case 'Float': {
        const v = new NixFloat(e.value);
        return () => v;
      }
      case 'Str': {
        const v = e.value;
        return () => v;
      }
      case 'Path': {
        const v = new NixPath(e.value);
        return () => v;
      }
      case 'Var':
        return this.compileVar(e);
      case 'WithVar':
        return this.compileWithVar(e);
      case 'Interp':
        return this.compileInterp(e);
      case 'Select':
        return this.compileSelect(e);
      case 'HasAttr':
        return this.compileHasAttr(e);
      case 'Attrs':
        return e.rec ? this.compileRecAttrs(e) : this.compileAttrs(e);
      case 'List': {
        const items = e.items.map((i) => this.lazy(i));
        const n = items.length;
        if (n === 0) return () => [];
        if (n === 1) {
          const a = items[0]!;
          return (env) => [a(env)];
        }
        if (n === 2) {
          const a = items[0]!;
          const b = items[1]!;
          return (env) => [a(env), b(env)];
        }
        return (env) => {
          const out = new Array<Lazy>(n);
          for (let i = 0; i < n; i++) out[i] = items[i]!(env);
          return out;
        };
      }
      case 'Let':
        return this.compileLet(e);
      case 'Lambda': {
        const lc = this.lambdaCode(e);
        return (env) => new Lambda(lc, env);
      }
      case 'Call':
        return this.compileCall(e);
      case 'If': {
        const c = this.compile(e.cond);
        const t = this.compile(e.then);
        const f = this.compile(e.else);
        const span = e.cond.span;
        return (env) => {
          const v = c(env);
          if (v === true) return t(env);
          if (v === false) return f(env);
          throw typeError(v, 'a Boolean', span);
        };
      }
      case 'Assert': {
        const c = this.compile(e.cond);
        const b = this.compile(e.body);
        const msg = `assertion '${e.text}' failed`;
        const span = e.span;
        const cspan = e.cond.span;
        return (env) => {
          const v = c(env);
          if (v === true) return b(env);
          if (v === false) throw new ImgError('E_ASSERT', msg, span);
          throw typeError(v, 'a Boolean', cspan);
        };
      }
      case 'With': {
        const w = this.lazy(e.env);
        const b = this.compile(e.body);
        return (env) => b([env, w(env)] as unknown as Env);
      }
      case 'Not': {
        const c = this.compile(e.expr);
        const span = e.expr.span;
        return (env) => {
          const v = c(env);
          if (typeof v === 'boolean') return !v;
          throw typeError(v, 'a Boolean', span);
        };
      }
      case 'Neg':
        return this.compileNeg(e);
      case 'Arith':
        return this.compileArith(e);
      case 'Compare':
        return this.compileCompare(e);
      case 'Add':
        return this.compileAdd(e);
      case 'Eq': {
        const span = e.span;
        const lv = localVar(e.lhs);
        const k = intLiteral(e.rhs);
        if (lv !== undefined && k !== undefined) {
          // `n == 0`: fused (no calls through closure variables)
          const L = lv.level;
          const S = lv.slot + 1;
          const name = lv.name;
          const vspan = lv.span;
          const neg = e.negated;
          return (env) => {
            const a = lookup(env, L, S, name, vspan);
            const eq = typeof a === 'number' ? a === k : eqValues(a, k, span);
            return neg ? !eq : eq;
          };
        }
        const l = this.compile(e.lhs);
        const r = this.compile(e.rhs);
        if (e.negated) return (env) => !eqValues(l(env), r(env), span);
        return (env) => eqValues(l(env), r(env), span);
      }
      case 'And': {
        const l = this.compile(e.lhs);
        const r = this.compile(e.rhs);
        const ls = e.lhs.span;
        const rs = e.rhs.span;
        return (env) => {
          const a = l(env);
          if (a === false) return false;
          if (a !== true) throw typeError(a, 'a Boolean', ls);
          const b = r(env);
          if (typeof b !== 'boolean') throw typeError(b, 'a Boolean', rs);
          return b;
        };
      }
      case 'Or': {
        const l = this.compile(e.lhs);
        const r = this.compile(e.rhs);
        const ls = e.lhs.span;
        const rs = e.rhs.span;
        return (env) => {
          const a = l(env);
          if (a === true) return true;
          if (a !== false) throw typeError(a, 'a Boolean', ls);
          const b = r(env);
          if (typeof b !== 'boolean') throw typeError(b, 'a Boolean', rs);
          return b;
        };
      }
      case 'Impl': {
        const l = this.compile(e.lhs);
        const r = this.compile(e.rhs);
        const ls = e.lhs.span;
        const rs = e.rhs.span;
        return (env) => {
          const a = l(env);
          if (a === false) return true;
          if (a !== true) throw typeError(a, 'a Boolean', ls);
          const b = r(env);
          if (typeof b !== 'boolean') throw typeError(b, 'a Boolean', rs);
          return b;
        };
      }
      case 'Update': {
        const l = this.compile(e.lhs);
        const r = this.compile(e.rhs);
        const ls = e.lhs.span;
        const rs = e.rhs.span;
        return (env) => {
          const a = l(env);
          if (!(a instanceof Attrs)) throw typeError(a, 'a set', ls);
          const b = r(env);
          if (!(b instanceof Attrs)) throw typeError(b, 'a set', rs);
          return updateAttrs(a, b);
        };
      }
      case 'Concat': {
        const l = this.compile(e.lhs);
        const r = this.compile(e.rhs);
        const ls = e.lhs.span;
        const rs = e.rhs.span;
        return (env) => {
          const a = l(env);
          if (!Array.isArray(a)) throw typeError(a, 'a list', ls);
          const b = r(env);
          if (!Array.isArray(b)) throw typeError(b, 'a list', rs);
          if (b.length === 0) return a;
          if (a.length === 0) return b;
          return a.concat(b);
        };
      }
      case 'CurPos': {
        const { line, col } = e.span.file.position(e.span.start);
        const v = Attrs.of([
            ['column', col],
            ['file', posFileName(e.span.file)],
            ['line', line],
          ]);
        return () => v;
      }
    }
  }

  private compileVar(e: A.Var): Code {
    if (e.global) {
      const g = this.st.globalValues[e.slot];
      if (g === undefined) throw new Error(`internal: global slot ${e.slot} (${e.name}) is unbound`);
      if (g instanceof Thunk) return () => g.force();
      return () => g;
    }
    const s = e.slot + 1;
    const name = e.name;
    const span = e.span;
    const unset = (): never => {
      throw new ImgError('E_INF_REC', `infinite recursion encountered (variable '${name}' used before it is defined)`, span);
    };
    switch (e.level) {
      case 0:
        return (env) => {
          const x = env[s];
          return x instanceof Thunk ? x.force() : x === undefined ? unset() : x;
        };
      case 1:
        return (env) => {
          const x = (env[0] as Env)[s];
          return x instanceof Thunk ? x.force() : x === undefined ? unset() : x;
        };
      case 2:
        return (env) => {
          const x = ((env[0] as Env)[0] as Env)[s];
          return x instanceof Thunk ? x.force() : x === undefined ? unset() : x;
        };
      default: {
        const l = e.level;
        return (env) => {
          const x = up(env, l)[s];
          return x instanceof Thunk ? x.force() : x === undefined ? unset() : x;
        };
      }
    }
  }

  private compileWithVar(e: A.WithVar): Code {
    const levels = e.withLevels;
    const name = e.name;
    const span = e.span;
    return (env) => {
      for (let i = 0; i < levels.length; i++) {
        const w = up(env, levels[i]!)[1] as Lazy;
        const a = w instanceof Thunk ? w.force() : w;
        if (!(a instanceof Attrs)) throw typeError(a, 'a set', span);
        const x = a.get(name);
        if (x !== undefined) return x instanceof Thunk ? x.force() : x;
      }
      throw new ImgError('E_UNDEFINED_VAR', `undefined variable '${name}'`, span);
    };
  }

  private compileInterp(e: A.Interp): Code {
    const st = this.st;
    const parts = e.parts.map((p) => this.compile(p));
    const spans = e.parts.map((p) => p.span);
    const span = e.span;
    if (e.isPath) {
      return (env) => {
        const ctx = new ContextBuilder();
        let s = '';
        for (let i = 0; i < parts.length; i++) s += coerceToString(st, parts[i]!(env), ctx, false, false, spans[i]);
        if (ctx.set !== undefined) throw new ImgError('E_EVAL', `a string that refers to a store path cannot be appended to a path`, span);
        return new NixPath(st.canonPath(s));
      };
    }
    const lits = e.parts.map((p) => (p.kind === 'Str' ? p.value : undefined));
    return (env) => {
      let ctx: ContextBuilder | undefined;
      let s = '';
      for (let i = 0; i < parts.length; i++) {
        const lit = lits[i];
        if (lit !== undefined) {
          s += lit;
          continue;
        }
        const v = parts[i]!(env);
        if (typeof v === 'string') s += v;
        else {
          ctx ??= new ContextBuilder();
          s += coerceToString(st, v, ctx, false, true, spans[i]);
        }
      }
      return mkString(s, ctx?.set);
    };
  }

  /** Resolves `builtins.x` at compile time when `builtins` is the global one. */
  private constantSelect(e: A.Select): Lazy | undefined {
    if (e.target.kind !== 'Var' || !e.target.global || e.fallback !== undefined || e.path.length !== 1) return undefined;
    const step = e.path[0]!;
    if (!('name' in step)) return undefined;
    const g = this.st.globalValues[e.target.slot];
    if (g !== this.st.builtinsAttrs) return undefined;
    return this.st.builtinsAttrs.get(step.name);
  }

  private compileSelect(e: A.Select): Code {
    const k = this.constantSelect(e);
    if (k !== undefined) {
      if (k instanceof Thunk) return () => k.force();
      return () => k;
    }
    const target = this.compile(e.target);
    const steps = e.path.map((p) => ('name' in p ? { name: p.name, code: undefined, span: p.span } : { name: undefined, code: this.compile(p.expr), span: p.span }));
    const staticNames = steps.map((s) => s.name);
    const fallback = e.fallback ? this.compile(e.fallback) : undefined;
    const span = e.span;
    const path = e.path;
    const n = steps.length;
    if (n === 1 && steps[0]!.name !== undefined && fallback === undefined) {
      const name = steps[0]!.name;
      const nspan = steps[0]!.span;
      const tspan = e.target.span;
      // a one-entry inline cache: the same site mostly sees sets of the same shape
      let cShape: Shape | undefined;
      let cIdx = -1;
      return (env) => {
        const a = target(env);
        if (!(a instanceof Attrs)) throw typeError(a, 'a set', tspan);
        const sh = a.shape;
        let i: number;
        if (sh === cShape) i = cIdx;
        else {
          i = sh.indexOf(name);
          cShape = sh;
          cIdx = i;
        }
        if (i < 0) throw new ImgError('E_MISSING_ATTR', `attribute '${name}' missing`, nspan);
        const x = a.vals[i]!;
        if (x instanceof Thunk) {
          if (x.c === null) return x.e;
          try {
            return x.force();
          } catch (err) {
            throw withTrace(err, `while evaluating the attribute '${name}'`, a.posOf(name) ?? span);
          }
        }
        return x;
      };
    }
    return (env) => {
      let v: Value = target(env);
      // the names of dynamic steps, kept only for error traces (no allocation on static paths)
      let names: (string | undefined)[] | undefined;
      for (let i = 0; i < n; i++) {
        const step = steps[i]!;
        let name = step.name;
        if (name === undefined) {
          name = forceStringNoCtx(step.code!(env), step.span);
          (names ??= staticNames.slice())[i] = name;
        }
        if (!(v instanceof Attrs)) {
          if (fallback) return fallback(env);
          throw typeError(v, 'a set', i === 0 ? e.target.span : span);
        }
        const x = v.get(name);
        if (x === undefined) {
          if (fallback) return fallback(env);
          throw new ImgError('E_MISSING_ATTR', `attribute '${name}' missing`, step.span);
        }
        if (x instanceof Thunk && x.c !== null) {
          const holder: Attrs = v;
          try {
            v = x.force();
          } catch (err) {
            throw withTrace(err, `while evaluating the attribute '${attrPathText(path, i, names ?? staticNames)}'`, holder.posOf(name) ?? span);
          }
        } else v = x instanceof Thunk ? x.e : x;
      }
      return v;
    };
  }

  private compileHasAttr(e: A.HasAttr): Code {
    const target = this.compile(e.target);
    const steps = e.path.map((p) => ('name' in p ? { name: p.name, code: undefined, span: p.span } : { name: undefined, code: this.compile(p.expr), span: p.span }));
    return (env) => {
      let v: Value = target(env);
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        const name = step.name ?? forceStringNoCtx(step.code!(env), step.span);
        if (!(v instanceof Attrs)) return false;
        const x = v.get(name);
        if (x === undefined) return false;
        if (i < steps.length - 1) v = force(x);
      }
      return true;
    };
  }

  /** The shape of a literal's static attributes and, for each source-order binding, its index there. */
  private staticShape(attrs: readonly A.Binding[]): { shape: Shape; perm: number[] } {
    const order = attrs.map((b, i) => i).sort((x, y) => (attrs[x]!.name < attrs[y]!.name ? -1 : attrs[x]!.name > attrs[y]!.name ? 1 : 0));
    const shape = attrs.length === 0 ? new Shape([], []) : new Shape(order.map((i) => attrs[i]!.name), order.map((i) => attrs[i]!.span));
    const perm = new Array<number>(attrs.length);
    order.forEach((src, sorted) => (perm[src] = sorted));
    return { shape, perm };
  }

  private dynamicCode(dyn: readonly A.DynamicBinding[]) {
    return dyn.map((d) => ({ name: this.compile(d.name), value: this.lazy(d.value), span: d.span, nameSpan: d.name.span }));
  }

  private compileAttrs(e: A.Attrs): Code {
    const { shape, perm } = this.staticShape(e.attrs);
    const n = e.attrs.length;
    // value makers in sorted order (non-rec: creation order does not matter)
    const sorted = new Array<LazyCode>(n);
    e.attrs.forEach((b, i) => (sorted[perm[i]!] = this.lazy(b.value)));
    const dyn = this.dynamicCode(e.dynamic);
    const make = (env: Env): Attrs => {
      const vals = new Array<Lazy>(n);
      for (let i = 0; i < n; i++) vals[i] = sorted[i]!(env);
      return new Attrs(shape, vals);
    };
    if (dyn.length === 0) {
      if (n === 0) return () => new Attrs(shape, []);
      if (n === 1) {
        const a = sorted[0]!;
        return (env) => new Attrs(shape, [a(env)]);
      }
      if (n === 2) {
        const a = sorted[0]!;
        const b = sorted[1]!;
        return (env) => new Attrs(shape, [a(env), b(env)]);
      }
      return make;
    }
    return (env) => addDynamic(make(env), dyn, env, env);
  }

  private compileRecAttrs(e: A.Attrs): Code {
    const { shape, perm } = this.staticShape(e.attrs);
    const names = e.attrs.map((b) => b.name);
    const inherited = e.attrs.map((b) => b.inherited);
    const overrides = names.indexOf('__overrides');
    const vals = e.attrs.map((b) => this.lazy(b.value, overrides < 0));
    const n = names.length;
    const dyn = this.dynamicCode(e.dynamic);
    const span = e.span;
    return (env) => {
      const env2 = new Array(n + 1) as unknown as Env;
      env2[0] = env;
      const out = new Array<Lazy>(n);
      for (let i = 0; i < n; i++) {
        const v = inherited[i] ? vals[i]!(env) : vals[i]!(env2);
        env2[i + 1] = v;
        out[perm[i]!] = v;
      }
      let a = new Attrs(shape, out);
      if (overrides >= 0) {
        const o = force(env2[overrides + 1]!);
        if (!(o instanceof Attrs)) throw typeError(o, 'a set', span);
        const m = new Map<string, Lazy>();
        for (let i = 0; i < n; i++) m.set(shape.keys[i]!, out[i]!);
        const ok = o.names();
        for (let j = 0; j < ok.length; j++) {
          const k = ok[j]!;
          const v = o.vals[j]!;
          const i = names.indexOf(k);
          if (i >= 0) env2[i + 1] = v;
          m.set(k, v);
        }
        a = new Attrs(m, undefined, { l: shape, r: o.pos ?? o.shape, rShape: o.shape });
      }
      if (dyn.length === 0) return a;
      return addDynamic(a, dyn, env2, env2);
    };
  }

  private compileLet(e: A.Let): Code {
    const inherited = e.attrs.map((b) => b.inherited);
    const vals = e.attrs.map((b) => this.lazy(b.value));
    const body = this.compile(e.body);
    const n = vals.length;
    if (n === 1 && !inherited[0]) {
      const v0 = vals[0]!;
      return (env) => {
        const env2 = [env, undefined] as unknown as Env;
        env2[1] = v0(env2);
        return body(env2);
      };
    }
    return (env) => {
      const env2 = new Array(n + 1) as unknown as Env;
      env2[0] = env;
      for (let i = 0; i < n; i++) env2[i + 1] = inherited[i] ? vals[i]!(env) : vals[i]!(env2);
      return body(env2);
    };
  }

  private lambdaCode(e: A.Lambda): LambdaCode {
    const formals: FormalCode[] | undefined = e.formals?.map((f) => ({ name: f.name, span: f.span, def: f.default ? this.lazy(f.default) : undefined }));
    const inner = e.body.kind === 'Lambda' ? this.lambdaCode(e.body) : undefined;
    const body = this.compile(e.body);
    return {
      name: e.name,
      span: e.span,
      formals,
      formalNames: formals ? new Set(formals.map((f) => f.name)) : undefined,
      ellipsis: e.ellipsis,
      arg: e.arg,
      body,
      inner,
      ic: { shape: undefined, idx: undefined },
    };
  }

  /** The global builtin a Var names, when it is one (for direct calls). */
  private globalPrimOp(e: A.Expr): PrimOp | undefined {
    if (e.kind === 'Var' && e.global) {
      const g = this.st.globalValues[e.slot];
      if (g instanceof PrimOp) return g;
    }
    if (e.kind === 'Select') {
      const k = this.constantSelect(e);
      if (k instanceof PrimOp) return k;
    }
    return undefined;
  }

  private compileCall(e: A.Call): Code {
    const span = e.span;
    const args = e.args.map((a) => this.lazy(a));
    const op = this.globalPrimOp(e.fn);
    if (op !== undefined && args.length === op.def.arity && args.length <= 3) {
      const impl = op.def.impl;
      const st = op.st;
      const label = `while calling the '${op.def.name}' builtin`;
      const a0 = args[0]!;
      const a1 = args[1];
      const a2 = args[2];
      if (args.length === 1)
        return (env) => {
          const x = a0(env);
          try {
            return impl(st, span, x, null, null);
          } catch (err) {
            throw withTrace(err, label, span);
          }
        };
      if (args.length === 2)
        return (env) => {
          const x = a0(env);
          const y = a1!(env);
          try {
            return impl(st, span, x, y, null);
          } catch (err) {
            throw withTrace(err, label, span);
          }
        };
      return (env) => {
        const x = a0(env);
        const y = a1!(env);
        const z = a2!(env);
        try {
          return impl(st, span, x, y, z);
        } catch (err) {
          throw withTrace(err, label, span);
        }
      };
    }
    const fn = this.compile(e.fn);
    if (args.length === 1) {
      const a0 = args[0]!;
      // `f x` with `f` a local variable: read it in place, make the argument's thunk in place, and
      // enter a plain lambda here (one JS frame less per Nix call: deep recursions use less stack)
      const fv = localVar(e.fn);
      if (fv !== undefined) {
        const fl = fv.level;
        const fs = fv.slot + 1;
        const fname = fv.name;
        const fspan = fv.span;
        const c0 = this.needsThunk(e.args[0]!) ? this.compile(e.args[0]!) : undefined;
        return (env) => {
          const f = lookup(env, fl, fs, fname, fspan);
          const a = c0 !== undefined ? new Thunk(c0, env) : a0(env);
          if (f instanceof Lambda && f.f.formals === undefined) {
            const lc = f.f;
            try {
              return lc.body([f.env, a] as unknown as Env);
            } catch (err) {
              throw withCallTrace(err, lc, span);
            }
          }
          return call1(f, a, span);
        };
      }
      return (env) => call1(fn(env), a0(env), span);
    }
    if (args.length === 2) {
      const a0 = args[0]!;
      const a1 = args[1]!;
      const fv = localVar(e.fn);
      if (fv !== undefined) {
        // `f x y` with `f` a local variable: as for one argument, and a curried `x: y: …` is
        // entered here (no call2 frame)
        const fl = fv.level;
        const fs = fv.slot + 1;
        const fname = fv.name;
        const fspan = fv.span;
        const t0 = this.needsThunk(e.args[0]!);
        const t1 = this.needsThunk(e.args[1]!);
        const c0 = t0 ? this.compile(e.args[0]!) : undefined;
        const c1 = t1 ? this.compile(e.args[1]!) : undefined;
        return (env) => {
          const f = lookup(env, fl, fs, fname, fspan);
          const x = c0 !== undefined ? new Thunk(c0, env) : a0(env);
          const y = c1 !== undefined ? new Thunk(c1, env) : a1(env);
          if (f instanceof Lambda) {
            const lc = f.f;
            const inner = lc.inner;
            if (inner !== undefined && lc.formals === undefined && inner.formals === undefined) {
              try {
                return inner.body([[f.env, x], y] as unknown as Env);
              } catch (err) {
                throw withCallTrace(err, lc, span);
              }
            }
          }
          return call2(f, x, y, span);
        };
      }
      return (env) => call2(fn(env), a0(env), a1(env), span);
    }
    return (env) => {
      const f = fn(env);
      const vs = new Array<Lazy>(args.length);
      for (let i = 0; i < args.length; i++) vs[i] = args[i]!(env);
      return callValue(f, vs, span);
    };
  }

  /** True when `fn` is the global builtin `name` (so the operator can use it directly). */
  private isGlobalBuiltin(fn: A.Var | A.WithVar, name: string): boolean {
    if (fn.kind !== 'Var' || !fn.global) return false;
    const g = this.st.globalValues[fn.slot];
    return g instanceof PrimOp && g.def.name === name;
  }

  private compileNeg(e: A.Neg): Code {
    const x = this.compile(e.expr);
    const span = e.span;
    if (this.isGlobalBuiltin(e.fn, 'sub')) return (env) => numSub(0, x(env), span);
    const fn = this.compile(e.fn);
    const lx = this.lazy(e.expr);
    return (env) => call2(fn(env), 0, lx(env), span);
  }

  private compileArith(e: A.Arith): Code {
    const span = e.span;
    const name = e.op === '-' ? 'sub' : e.op === '*' ? 'mul' : 'div';
    if (this.isGlobalBuiltin(e.fn, name)) {
      const lv = localVar(e.lhs);
      const k = intLiteral(e.rhs);
      if (e.op === '-' && lv !== undefined && k !== undefined) {
        // `n - 1`: fused (no calls through closure variables)
        const L = lv.level;
        const S = lv.slot + 1;
        const name = lv.name;
        const vspan = lv.span;
        return (env) => {
          const a = lookup(env, L, S, name, vspan);
          if (typeof a === 'number') {
            const s = a - k;
            if (s <= 9007199254740991 && s >= -9007199254740991) return s;
          }
          return numSub(a, k, span);
        };
      }
      const l = this.compile(e.lhs);
      const r = this.compile(e.rhs);
      if (e.op === '-')
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a === 'number' && typeof b === 'number') {
            const s = a - b;
            if (s <= 9007199254740991 && s >= -9007199254740991) return s;
          }
          return numSub(a, b, span);
        };
      if (e.op === '*') return (env) => numMul(l(env), r(env), span);
      return (env) => numDiv(l(env), r(env), span);
    }
    const fn = this.compile(e.fn);
    const l = this.lazy(e.lhs);
    const r = this.lazy(e.rhs);
    return (env) => call2(fn(env), l(env), r(env), span);
  }

  private compileCompare(e: A.Compare): Code {
    const span = e.span;
    const swap = e.op === '>' || e.op === '<=';
    const negate = e.op === '<=' || e.op === '>=';
    if (this.isGlobalBuiltin(e.fn, 'lessThan')) {
      const lv = localVar(e.lhs);
      const k = intLiteral(e.rhs);
      if (lv !== undefined && k !== undefined && (e.op === '<' || e.op === '>=')) {
        // `n < 2`, `n >= 2`: fused (no calls through closure variables)
        const L = lv.level;
        const S = lv.slot + 1;
        const name = lv.name;
        const vspan = lv.span;
        const ge = e.op === '>=';
        return (env) => {
          const a = lookup(env, L, S, name, vspan);
          const lt = typeof a === 'number' ? a < k : lessThan(a, k, span);
          return ge ? !lt : lt;
        };
      }
      const l = this.compile(e.lhs);
      const r = this.compile(e.rhs);
      if (e.op === '<')
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a === 'number' && typeof b === 'number') return a < b;
          return lessThan(a, b, span);
        };
      return (env) => {
        const a = l(env);
        const b = r(env);
        const lt = swap ? lessThan(b, a, span) : lessThan(a, b, span);
        return negate ? !lt : lt;
      };
    }
    const fn = this.compile(e.fn);
    const l = this.lazy(e.lhs);
    const r = this.lazy(e.rhs);
    return (env) => {
      const f = fn(env);
      const a = l(env);
      const b = r(env);
      const v = swap ? call2(f, b, a, span) : call2(f, a, b, span);
      if (typeof v !== 'boolean') throw typeError(v, 'a Boolean', span);
      return negate ? !v : v;
    };
  }

  private compileAdd(e: A.Add): Code {
    const st = this.st;
    const span = e.span;
    const ls = e.lhs.span;
    const rs = e.rhs.span;
    const lv = localVar(e.lhs);
    const k = intLiteral(e.rhs);
    if (lv !== undefined && k !== undefined) {
      // `i + 1`: fused (no calls through closure variables)
      const L = lv.level;
      const S = lv.slot + 1;
      const name = lv.name;
      const vspan = lv.span;
      return (env) => {
        const a = lookup(env, L, S, name, vspan);
        if (typeof a === 'number') {
          const s = a + k;
          if (s <= 9007199254740991 && s >= -9007199254740991) return s;
          return numAdd(a, k, span);
        }
        return addValues(st, a, k, span, ls, rs);
      };
    }
    const l = this.compile(e.lhs);
    const r = this.compile(e.rhs);
    return (env) => {
      const a = l(env);
      const b = r(env);
      if (typeof a === 'number' && typeof b === 'number') {
        const s = a + b;
        if (s <= 9007199254740991 && s >= -9007199254740991) return s;
        return numAdd(a, b, span);
      }
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      return addValues(st, a, b, span, ls, rs);
    };
  }
}

/** `+` beyond the fast paths (Nix's ExprConcatStrings with two parts). */
export function addValues(st: CompileState, a: Value, b: Value, span: Span, ls: Span, rs: Span): Value {
  if (typeof a === 'number' || typeof a === 'bigint') {
    if (typeof b === 'number' || typeof b === 'bigint' || b instanceof NixFloat) return numAdd(a, b, span);
    throw new ImgError('E_TYPE', `cannot add ${showType(b)} to an integer`, span);
  }
  if (a instanceof NixFloat) {
    if (typeof b === 'number' || typeof b === 'bigint' || b instanceof NixFloat) return numAdd(a, b, span);
    throw new ImgError('E_TYPE', `cannot add ${showType(b)} to a float`, span);
  }
  if (a instanceof NixPath) {
    const ctx = new ContextBuilder();
    const s = a.p + coerceToString(st, b, ctx, false, false, rs);
    if (ctx.set !== undefined) throw new ImgError('E_EVAL', `a string that refers to a store path cannot be appended to a path`, span);
    return new NixPath(st.canonPath(s));
  }
  const ctx = new ContextBuilder();
  const s = coerceToString(st, a, ctx, false, true, ls) + coerceToString(st, b, ctx, false, true, rs);
  return mkString(s, ctx.set);
}

/** `a // b`: right-biased, shallow; an empty side gives the other side itself. */
export function updateAttrs(a: Attrs, b: Attrs): Attrs {
  const nb = b.vals.length;
  if (nb === 0) return a;
  const na = a.vals.length;
  if (na === 0) return b;
  const pos: PosUpdate = { l: a.pos ?? (a.shape.pos ? a.shape : undefined), r: b.pos ?? (b.shape.pos ? b.shape : undefined), rShape: b.shape };
  const as = a.shape;
  const bs = b.shape;
  if (bs.pos !== undefined) {
    // b is a literal's set, whose shape recurs: the layout of this pair of shapes is computed
    // once, so the sets one `//` site makes share one shape (selections hit their caches)
    let u = as.updates?.get(bs);
    if (u === undefined) {
      u = updateLayout(as, bs);
      const m = (as.updates ??= new Map());
      if (m.size < 16) m.set(bs, u);
    }
    const from = u.from;
    const n = from.length;
    const av = a.vals;
    const bv = b.vals;
    const vals = new Array<Lazy>(n);
    for (let i = 0; i < n; i++) {
      const j = from[i]!;
      vals[i] = j >= 0 ? av[j]! : bv[-1 - j]!;
    }
    return new Attrs(u.shape, vals, pos);
  }
  const bk = bs.keys;
  // Only overrides? Then the shape is shared and the values are copied (cheap).
  if (nb <= na) {
    let idx: number[] | undefined = [];
    for (let j = 0; j < nb; j++) {
      const i = as.indexOf(bk[j]!);
      if (i < 0) {
        idx = undefined;
        break;
      }
      idx.push(i);
    }
    if (idx !== undefined) {
      const vals = a.vals.slice();
      for (let j = 0; j < nb; j++) vals[idx[j]!] = b.vals[j]!;
      return new Attrs(as, vals, pos);
    }
  }
  // Merge two sorted key lists.
  const ak = as.keys;
  const keys: string[] = [];
  const vals: Lazy[] = [];
  let i = 0;
  let j = 0;
  while (i < na && j < nb) {
    const x = ak[i]!;
    const y = bk[j]!;
    if (x < y) {
      keys.push(x);
      vals.push(a.vals[i++]!);
    } else if (y < x) {
      keys.push(y);
      vals.push(b.vals[j++]!);
    } else {
      keys.push(y);
      vals.push(b.vals[j++]!);
      i++;
    }
  }
  while (i < na) {
    keys.push(ak[i]!);
    vals.push(a.vals[i++]!);
  }
  while (j < nb) {
    keys.push(bk[j]!);
    vals.push(b.vals[j++]!);
  }
  return new Attrs(new Shape(keys), vals, pos);
}

/** The layout of `a // b` for two shapes: b only overrides (a's shape is kept) or a merge. */
function updateLayout(as: Shape, bs: Shape): ShapeUpdate {
  const ak = as.keys;
  const bk = bs.keys;
  const na = ak.length;
  const nb = bk.length;
  if (nb <= na) {
    const from = new Int32Array(na);
    for (let i = 0; i < na; i++) from[i] = i;
    let ok = true;
    for (let j = 0; j < nb; j++) {
      const i = as.indexOf(bk[j]!);
      if (i < 0) {
        ok = false;
        break;
      }
      from[i] = -1 - j;
    }
    if (ok) return { shape: as, from };
  }
  // Merge two sorted key lists.
  const keys: string[] = [];
  const from: number[] = [];
  let i = 0;
  let j = 0;
  while (i < na && j < nb) {
    const x = ak[i]!;
    const y = bk[j]!;
    if (x < y) {
      keys.push(x);
      from.push(i++);
    } else if (y < x) {
      keys.push(y);
      from.push(-1 - j++);
    } else {
      keys.push(y);
      from.push(-1 - j++);
      i++;
    }
  }
  while (i < na) {
    keys.push(ak[i]!);
    from.push(i++);
  }
  while (j < nb) {
    keys.push(bk[j]!);
    from.push(-1 - j++);
  }
  return { shape: new Shape(keys), from: Int32Array.from(from) };
}

function addDynamic(base: Attrs, dyn: readonly { name: Code; value: LazyCode; span: Span; nameSpan: Span }[], nameEnv: Env, valueEnv: Env): Attrs {
  let m: Map<string, Lazy> | undefined;
  let pos: Map<string, Span> | undefined;
  for (const d of dyn) {
    const nv = d.name(nameEnv);
    if (nv === null) continue;
    const name = forceStringNoCtx(nv, d.nameSpan);
    if (m === undefined) {
      m = new Map();
      pos = new Map();
      const k = base.names();
      for (let i = 0; i < k.length; i++) {
        m.set(k[i]!, base.vals[i]!);
        const p = base.posOf(k[i]!);
        if (p) pos.set(k[i]!, p);
      }
    }
    if (m.has(name)) {
      const prev = pos!.get(name);
      throw new ImgError('E_DUP_ATTR', `dynamic attribute '${name}' already defined`, d.span, prev ? [{ message: 'first defined here', span: prev }] : []);
    }
    m.set(name, d.value(valueEnv));
    pos!.set(name, d.span);
  }
  return m === undefined ? base : new Attrs(m, undefined, pos);
}

export { NixString };
