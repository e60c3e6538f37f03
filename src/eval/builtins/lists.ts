// eval/builtins/lists: list functions (map, filter, folds, sort, genList, genericClosure, …).
// Element results stay lazy where Nix keeps them lazy (map, genList, concatMap's inner
// elements); folds and predicates force as Nix does. Never does IO.

import { ImgError } from '../../base/error.js';
import type { Span } from '../../base/source.js';
import { call1, call2, eqLazy, forceAttrs, forceBool, forceFunction, forceInt, forceList, forceStringNoCtx, applier, lessThan, typeError, withTrace } from '../ops.js';
import { Attrs, Lambda, NixFloat, NixPath, NixString, PrimOp, Thunk, force, type BuiltinDef, type Env, type Lazy, type List, type Value } from '../value.js';

/**
 * std::stable_sort as libstdc++ runs it for Nix 2.8's builtins.sort (a buffer of (n+1)/2
 * elements: both halves sorted by __merge_sort_with_buffer — insertion sort on chunks of 7,
 * then merge passes through the buffer — and joined by __merge_adaptive), step by step: the same
 * comparator calls in the same order, so a comparator that is not a strict weak order, or that
 * throws or traces on some pairs, gives what Nix gives.
 */
function stableSort(list: List, lt: (a: Lazy, b: Lazy) => boolean): List {
  const n = list.length;
  const a = list.slice();
  if (n < 2) return a;
  const half = (n + 1) >> 1;
  const buf = new Array<Lazy>(half);
  mergeSortWithBuffer(a, 0, half, buf, lt);
  mergeSortWithBuffer(a, half, n, buf, lt);
  // __merge_adaptive with a buffer big enough for either half
  const len1 = half;
  const len2 = n - half;
  if (len1 <= len2) {
    for (let i = 0; i < len1; i++) buf[i] = a[i]!;
    let f1 = 0;
    let f2 = half;
    let r = 0;
    while (f1 !== len1 && f2 !== n) {
      if (lt(a[f2]!, buf[f1]!)) a[r++] = a[f2++]!;
      else a[r++] = buf[f1++]!;
    }
    while (f1 !== len1) a[r++] = buf[f1++]!;
  } else {
    for (let i = 0; i < len2; i++) buf[i] = a[half + i]!;
    // __move_merge_adaptive_backward(first, middle, buf, buf + len2, last)
    if (len2 === 0) return a;
    let l1 = half - 1;
    let l2 = len2 - 1;
    let r = n;
    for (;;) {
      if (lt(buf[l2]!, a[l1]!)) {
        a[--r] = a[l1]!;
        if (l1 === 0) {
          while (l2 >= 0) a[--r] = buf[l2--]!;
          return a;
        }
        l1--;
      } else {
        a[--r] = buf[l2]!;
        if (l2 === 0) return a;
        l2--;
      }
    }
  }
  return a;
}

/** libstdc++'s __merge_sort_with_buffer on a[first..last) (chunks of 7, merges via buf). */
function mergeSortWithBuffer(a: Lazy[], first: number, last: number, buf: Lazy[], lt: (a: Lazy, b: Lazy) => boolean): void {
  const len = last - first;
  // __chunk_insertion_sort
  let c = first;
  while (last - c >= 7) {
    insertionSort(a, c, c + 7, lt);
    c += 7;
  }
  insertionSort(a, c, last, lt);
  let step = 7;
  while (step < len) {
    mergeSortLoop(a, first, last, buf, 0, step, lt);
    step *= 2;
    mergeSortLoop(buf, 0, len, a, first, step, lt);
    step *= 2;
  }
}

/** libstdc++'s __insertion_sort (with __unguarded_linear_insert). */
function insertionSort(a: Lazy[], first: number, last: number, lt: (a: Lazy, b: Lazy) => boolean): void {
  if (first === last) return;
  for (let i = first + 1; i !== last; i++) {
    const val = a[i]!;
    if (lt(val, a[first]!)) {
      for (let j = i; j > first; j--) a[j] = a[j - 1]!;
      a[first] = val;
    } else {
      let l = i;
      let next = i - 1;
      while (lt(val, a[next]!)) {
        a[l] = a[next]!;
        l = next;
        next--;
      }
      a[l] = val;
    }
  }
}

/** libstdc++'s __merge_sort_loop: merges runs of `step` from src[first..last) into dst from `out`. */
function mergeSortLoop(src: Lazy[], first: number, last: number, dst: Lazy[], out: number, step: number, lt: (a: Lazy, b: Lazy) => boolean): void {
  const two = 2 * step;
  while (last - first >= two) {
    out = moveMerge(src, first, first + step, first + two, dst, out, lt);
    first += two;
  }
  const s = Math.min(last - first, step);
  moveMerge(src, first, first + s, last, dst, out, lt);
}

/** libstdc++'s __move_merge of src[f1..l1) and src[l1..l2) into dst from `out` (ties: the first run). */
function moveMerge(src: Lazy[], f1: number, l1: number, l2: number, dst: Lazy[], out: number, lt: (a: Lazy, b: Lazy) => boolean): number {
  let f2 = l1;
  while (f1 !== l1 && f2 !== l2) {
    if (lt(src[f2]!, src[f1]!)) dst[out++] = src[f2++]!;
    else dst[out++] = src[f1++]!;
  }
  while (f1 !== l1) dst[out++] = src[f1++]!;
  while (f2 !== l2) dst[out++] = src[f2++]!;
  return out;
}

/**
 * `(a, b) => call2(fn, a, b, span)` for a builtin that calls `fn` many times in a row (sort's
 * comparator, foldl''s operator). For a curried lambda without patterns, `a: b: body`, the two
 * environments `[fn.env, a]` and `[env2, b]` (call2's) are allocated once and refilled for the
 * next call as long as the last result was a leaf (no set, list or function, the only values
 * that can hold a thunk or closure made in them: nothing else created by a call outlives it), so
 * the calls allocate no environments. Errors get call2's trace frame.
 */
function caller2(fn: Value, span: Span | undefined): (a: Lazy, b: Lazy) => Value {
  if (!(fn instanceof Lambda)) return (a, b) => call2(fn, a, b, span);
  const lc = fn.f;
  const inner = lc.inner;
  if (lc.formals !== undefined || inner === undefined || inner.formals !== undefined) return (a, b) => call2(fn, a, b, span);
  const outer = fn.env;
  const body = inner.body;
  const label = lc.name !== undefined ? `while calling '${lc.name}'` : 'while calling anonymous lambda';
  let env2: Env | null = null;
  let env3: Env | null = null;
  return (a, b) => {
    if (env2 === null) {
      env2 = [outer, a] as unknown as Env;
      env3 = [env2, b] as unknown as Env;
    } else {
      env2[1] = a;
      env3![1] = b;
    }
    let r: Value;
    try {
      r = body(env3!);
    } catch (e) {
      env2 = null;
      throw withTrace(e, label, span);
    }
    if (typeof r === 'object' && r !== null && !(r instanceof NixString) && !(r instanceof NixFloat) && !(r instanceof NixPath)) env2 = null;
    return r;
  };
}

/**
 * `(x) => call1(fn, x, span)` for a builtin that calls a predicate or key function many times
 * (filter, partition, all, any, groupBy): for a lambda without a pattern, `x: body`, the
 * environment `[fn.env, x]` is allocated once and refilled while results are leaves (as in
 * caller2).
 */
function caller1(fn: Value, span: Span | undefined): (x: Lazy) => Value {
  if (!(fn instanceof Lambda) || fn.f.formals !== undefined) return (x) => call1(fn, x, span);
  const lc = fn.f;
  const outer = fn.env;
  const body = lc.body;
  const label = lc.name !== undefined ? `while calling '${lc.name}'` : 'while calling anonymous lambda';
  let env: Env | null = null;
  return (x) => {
    if (env === null) env = [outer, x] as unknown as Env;
    else env[1] = x;
    let r: Value;
    try {
      r = body(env);
    } catch (e) {
      env = null;
      throw withTrace(e, label, span);
    }
    if (typeof r === 'object' && r !== null && !(r instanceof NixString) && !(r instanceof NixFloat) && !(r instanceof NixPath)) env = null;
    return r;
  };
}

function keyKind(v: Value): number {
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof NixFloat) return 0;
  if (typeof v === 'string' || v instanceof NixString) return 1;
  if (v instanceof NixPath) return 2;
  if (Array.isArray(v)) return 3;
  return 4;
}

function genericClosure(span: Span | undefined, arg: Lazy): Value {
  const a = forceAttrs(arg, span);
  const start = a.get('startSet');
  if (start === undefined) throw new ImgError('E_MISSING_ATTR', `attribute 'startSet' missing for call to 'genericClosure'`, span);
  const op = a.get('operator');
  if (op === undefined) throw new ImgError('E_MISSING_ATTR', `attribute 'operator' missing for call to 'genericClosure'`, span);
  const work: Lazy[] = forceList(start, span).slice();
  const opv = force(op);
  const res: Lazy[] = [];
  // keys of one kind only (Nix keeps them in an ordered set: mixing kinds cannot be compared)
  const seenStr = new Set<string>();
  const seenNum = new Set<number | bigint>();
  const others: Value[] = [];
  let firstKey: Value | undefined;
  let firstKind = -1;
  let w = 0;
  while (w < work.length) {
    const e = work[w++]!;
    const kx = forceAttrs(e, span).get('key');
    if (kx === undefined) throw new ImgError('E_MISSING_ATTR', `attribute 'key' required`, span);
    const key = force(kx);
    const kind = keyKind(key);
    if (firstKind < 0) {
      firstKind = kind;
      firstKey = key;
    } else if (kind !== firstKind) lessThan(firstKey!, key, span); // throws "cannot compare"
    if (typeof key === 'string') {
      if (seenStr.has(key)) continue;
      seenStr.add(key);
    } else if (key instanceof NixString) {
      if (seenStr.has(key.s)) continue;
      seenStr.add(key.s);
    } else if (kind === 0) {
      const k = key instanceof NixFloat ? key.v : typeof key === 'bigint' ? key : (key as number);
      if (seenNum.has(k)) continue;
      seenNum.add(k);
    } else if (key instanceof NixPath) {
      if (seenStr.has(key.p)) continue;
      seenStr.add(key.p);
    } else {
      let dup = false;
      for (const o of others) {
        if (!lessThan(o, key, span) && !lessThan(key, o, span)) {
          dup = true;
          break;
        }
      }
      if (dup) continue;
      others.push(key);
    }
    res.push(e);
    const next = forceList(call1(opv, e, span), span);
    for (let i = 0; i < next.length; i++) work.push(next[i]!);
  }
  return res;
}

export const LIST_BUILTINS: BuiltinDef[] = [
  {
    name: 'map',
    arity: 2,
    doc: 'map f list: the list of f applied to each element (lazily).',
    impl: (_st, span, f, l) => {
      const list = forceList(l, span);
      const n = list.length;
      const out = new Array<Lazy>(n);
      const ap = applier(span);
      for (let i = 0; i < n; i++) out[i] = new Thunk(ap, f, list[i]!);
      return out;
    },
  },
  {
    name: 'filter',
    arity: 2,
    doc: 'filter pred list: the elements of list for which pred returns true.',
    impl: (_st, span, f, l) => {
      const fn = forceFunction(f, span);
      const list = forceList(l, span);
      const n = list.length;
      const call = caller1(fn, span);
      // which elements stay, then a list of exactly their number (no push slack kept)
      const keep = new Uint8Array(n);
      let k = 0;
      for (let i = 0; i < n; i++)
        if (forceBool(call(list[i]!), span)) {
          keep[i] = 1;
          k++;
        }
      if (k === n) return list;
      const out = new Array<Lazy>(k);
      for (let i = 0, j = 0; j < k; i++) if (keep[i] === 1) out[j++] = list[i]!;
      return out;
    },
  },
  { name: 'length', arity: 1, doc: 'length list: the number of elements of list.', impl: (_st, span, l) => forceList(l, span).length },
  {
    name: 'head',
    arity: 1,
    doc: 'head list: the first element of list (an error if it is empty).',
    impl: (_st, span, l) => {
      const list = forceList(l, span);
      if (list.length === 0) throw new ImgError('E_EVAL', 'list index 0 is out of bounds', span);
      return force(list[0]!);
    },
  },
  {
    name: 'tail',
    arity: 1,
    doc: 'tail list: list without its first element (an error if it is empty).',
    impl: (_st, span, l) => {
      const list = forceList(l, span);
      if (list.length === 0) throw new ImgError('E_EVAL', `'tail' called on an empty list`, span);
      return list.slice(1);
    },
  },
  {
    name: 'elemAt',
    arity: 2,
    doc: 'elemAt list n: the element at index n (from 0); an error when out of bounds.',
    impl: (_st, span, l, i) => {
      const list = forceList(l, span);
      const n = forceInt(i, span);
      if (typeof n !== 'number' || n < 0 || n >= list.length) throw new ImgError('E_EVAL', `list index ${n} is out of bounds`, span);
      return force(list[n]!);
    },
  },
  {
    name: 'elem',
    arity: 2,
    doc: 'elem x list: true if some element of list is equal to x.',
    impl: (_st, span, x, l) => {
      for (const e of forceList(l, span)) if (eqLazy(x, e, span)) return true;
      return false;
    },
  },
  {
    name: 'concatLists',
    arity: 1,
    doc: 'concatLists lists: the concatenation of a list of lists.',
    impl: (_st, span, l) => {
      const out: Lazy[] = [];
      for (const x of forceList(l, span)) for (const y of forceList(x, span)) out.push(y);
      return out;
    },
  },
  {
    name: 'concatMap',
    arity: 2,
    doc: 'concatMap f list: concatLists (map f list).',
    impl: (_st, span, f, l) => {
      const fn = forceFunction(f, span);
      const out: Lazy[] = [];
      for (const x of forceList(l, span)) for (const y of forceList(call1(fn, x, span), span)) out.push(y);
      return out;
    },
  },
  {
    name: 'genList',
    arity: 2,
    doc: 'genList f n: [ (f 0) (f 1) … (f (n - 1)) ], lazily.',
    impl: (_st, span, f, nx) => {
      const n = forceInt(nx, span);
      if (n < 0) throw new ImgError('E_EVAL', `cannot create list of size ${n}`, span);
      if (typeof n !== 'number') throw new ImgError('E_EVAL', `cannot create list of size ${n}`, span);
      force(f);
      const out = new Array<Lazy>(n);
      const ap = applier(span);
      for (let i = 0; i < n; i++) out[i] = new Thunk(ap, f, i);
      return out;
    },
  },
  {
    name: "foldl'",
    arity: 3,
    doc: "foldl' op nul list: op (… (op (op nul x0) x1) …) xn, forcing the accumulator at each step.",
    impl: (_st, span, op, nul, l) => {
      const list = forceList(l, span);
      if (list.length === 0) return force(nul);
      const call = caller2(force(op), span);
      let acc: Lazy = nul;
      for (let i = 0; i < list.length; i++) acc = call(acc, list[i]!);
      return acc as Value;
    },
  },
  {
    name: 'sort',
    arity: 2,
    doc: 'sort lt list: list sorted stably by the "less than" function lt.',
    impl: (_st, span, f, l) => {
      const fn = forceFunction(f, span);
      const list = forceList(l, span);
      for (const x of list) force(x);
      if (fn instanceof PrimOp && fn.def.name === 'lessThan') return stableSort(list, (a, b) => lessThan(force(a), force(b), span));
      const call = caller2(fn, span);
      return stableSort(list, (a, b) => {
        const r = call(a, b);
        if (typeof r !== 'boolean') throw typeError(r, 'a Boolean', span);
        return r;
      });
    },
  },
  {
    name: 'partition',
    arity: 2,
    doc: 'partition pred list: { right = elements where pred is true; wrong = the others; }.',
    impl: (_st, span, f, l) => {
      const fn = forceFunction(f, span);
      const right: Lazy[] = [];
      const wrong: Lazy[] = [];
      const call = caller1(fn, span);
      for (const x of forceList(l, span)) (forceBool(call(x), span) ? right : wrong).push(x);
      return Attrs.of([
          ['right', right],
          ['wrong', wrong],
        ]);
    },
  },
  {
    name: 'all',
    arity: 2,
    doc: 'all pred list: true if pred is true for every element.',
    impl: (_st, span, f, l) => {
      const fn = forceFunction(f, span);
      const call = caller1(fn, span);
      for (const x of forceList(l, span)) if (!forceBool(call(x), span)) return false;
      return true;
    },
  },
  {
    name: 'any',
    arity: 2,
    doc: 'any pred list: true if pred is true for some element.',
    impl: (_st, span, f, l) => {
      const fn = forceFunction(f, span);
      const call = caller1(fn, span);
      for (const x of forceList(l, span)) if (forceBool(call(x), span)) return true;
      return false;
    },
  },
  {
    name: 'groupBy',
    arity: 2,
    doc: 'groupBy f list: a set mapping each f x (a string) to the list of those x, in order.',
    impl: (_st, span, f, l) => {
      const fn = forceFunction(f, span);
      const call = caller1(fn, span);
      const m = new Map<string, Lazy[]>();
      for (const x of forceList(l, span)) {
        const k = forceStringNoCtx(call(x), span);
        const g = m.get(k);
        if (g) g.push(x);
        else m.set(k, [x]);
      }
      return new Attrs(m as Map<string, Lazy>);
    },
  },
  {
    name: 'genericClosure',
    arity: 1,
    doc: 'genericClosure { startSet; operator; }: the closure of startSet under operator, items deduplicated by their `key`.',
    impl: (_st, span, a) => genericClosure(span, a),
  },
];
