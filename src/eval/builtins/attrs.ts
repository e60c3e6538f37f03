// eval/builtins/attrs: attribute-set functions (attrNames, mapAttrs, listToAttrs, zipAttrsWith,
// functionArgs, …). Results iterate in bytewise name order where Nix's do. Never does IO.

import { ImgError } from '../../base/error.js';
import type { Span } from '../../base/source.js';
import { call2, forceAttrs, forceFunction, forceList, forceString, forceStringNoCtx, applier2 } from '../ops.js';
import { Attrs, EMPTY_SHAPE, Shape, Thunk, Lambda, PrimOp, PrimOpApp, force, showType, type BuiltinDef, type Code, type Lazy, type List, type Value } from '../value.js';

/** The positions of attributes that have none. */
const NO_POS: ReadonlyMap<string, Span> = new Map();

/** The shape of the last set listToAttrs built: reused when the next one has the same names. */
let lastListShape: Shape = EMPTY_SHAPE;

/**
 * listToAttrs: names and values gathered into arrays (the element sets' `name`/`value` indices
 * found once per element shape), then, unless the names already come in strictly ascending
 * order, one stable sort of indices by name; the first occurrence of a name wins. A duplicate
 * name needs no `value` (as in Nix): only an element without one looks at the names seen so far.
 */
function listToAttrs(list: List, span: Span | undefined): Attrs {
  const n = list.length;
  const names = new Array<string>(n);
  const vals = new Array<Lazy>(n);
  let shape: Shape | undefined;
  let ni = -1;
  let vi = -1;
  let sorted = true;
  let m = 0;
  // the `value` attributes' positions (Nix gives each new attribute its pair's `value` position)
  let poss: (Span | undefined)[] | undefined;
  let seen: Set<string> | undefined;
  for (let i = 0; i < n; i++) {
    const a = forceAttrs(list[i]!, span);
    if (a.shape !== shape) {
      shape = a.shape;
      ni = shape.indexOf('name');
      vi = shape.indexOf('value');
    }
    if (ni < 0) throw new ImgError('E_MISSING_ATTR', `attribute 'name' missing for call to 'listToAttrs'`, span);
    const name = forceStringNoCtx(a.vals[ni]!, span);
    if (vi < 0) {
      if (seen === undefined) seen = new Set(names.slice(0, m));
      if (seen.has(name)) continue;
      throw new ImgError('E_MISSING_ATTR', `attribute 'value' missing for call to 'listToAttrs'`, span);
    }
    if (seen !== undefined) {
      if (seen.has(name)) continue;
      seen.add(name);
    }
    if (sorted && m > 0 && !(names[m - 1]! < name)) sorted = false;
    names[m] = name;
    vals[m] = a.vals[vi]!;
    const vp = a.posOf('value');
    if (vp !== undefined) (poss ??= new Array<Span | undefined>(n))[m] = vp;
    m++;
  }
  if (m === 0) return new Attrs(EMPTY_SHAPE, []);
  let keys: string[];
  let out: Lazy[];
  let keyPos: (Span | undefined)[] | undefined;
  if (sorted) {
    keys = m === n ? names : names.slice(0, m);
    out = m === n ? vals : vals.slice(0, m);
    if (poss !== undefined) keyPos = poss.slice(0, m);
  } else {
    if (poss !== undefined) keyPos = new Array<Span | undefined>(m);
    const idx = new Array<number>(m);
    for (let i = 0; i < m; i++) idx[i] = i;
    idx.sort((x, y) => {
      const a = names[x]!;
      const b = names[y]!;
      return a < b ? -1 : a > b ? 1 : x - y;
    });
    keys = new Array<string>(m);
    out = new Array<Lazy>(m);
    let prev: string | undefined;
    let j = 0;
    for (let i = 0; i < m; i++) {
      const k = idx[i]!;
      const name = names[k]!;
      if (name === prev) continue;
      prev = name;
      keys[j] = name;
      if (keyPos !== undefined) keyPos[j] = poss![k];
      out[j++] = vals[k]!;
    }
    if (j < m) {
      keys = keys.slice(0, j);
      out = out.slice(0, j);
      if (keyPos !== undefined) keyPos = keyPos.slice(0, j);
    }
  }
  return new Attrs(sameShape(keys, keyPos), out);
}

/** The last listToAttrs shape if it has exactly these names and positions, else a new one (remembered). */
function sameShape(keys: string[], pos: (Span | undefined)[] | undefined): Shape {
  const last = lastListShape.keys;
  const lastPos = lastListShape.pos;
  if (last.length === keys.length && (lastPos === undefined) === (pos === undefined)) {
    let i = 0;
    while (i < keys.length && last[i] === keys[i] && (pos === undefined || lastPos![i] === pos[i])) i++;
    if (i === keys.length) return lastListShape;
  }
  return (lastListShape = new Shape(keys, pos));
}

export const ATTR_BUILTINS: BuiltinDef[] = [
  { name: 'attrNames', arity: 1, doc: 'attrNames set: the names of the attributes, sorted.', impl: (_st, span, a) => forceAttrs(a, span).names().slice() },
  {
    name: 'attrValues',
    arity: 1,
    doc: 'attrValues set: the values of the attributes, in the order of their sorted names.',
    impl: (_st, span, a) => {
      return forceAttrs(a, span).vals.slice();
    },
  },
  {
    name: 'getAttr',
    arity: 2,
    doc: 'getAttr name set: set.${name}; an error if missing.',
    impl: (_st, span, n, a) => {
      const name = forceStringNoCtx(n, span);
      const s = forceAttrs(a, span);
      const x = s.get(name);
      if (x === undefined) throw new ImgError('E_MISSING_ATTR', `attribute '${name}' missing for call to 'getAttr'`, span);
      return force(x);
    },
  },
  {
    name: 'hasAttr',
    arity: 2,
    doc: 'hasAttr name set: true if set has an attribute called name.',
    impl: (_st, span, n, a) => {
      const name = forceStringNoCtx(n, span);
      return forceAttrs(a, span).has(name);
    },
  },
  {
    name: 'removeAttrs',
    arity: 2,
    doc: 'removeAttrs set names: set without the listed attributes (missing names are ignored).',
    impl: (_st, span, a, l) => {
      const s = forceAttrs(a, span);
      const list = forceList(l, span);
      // the names found are marked by index (the shape's own lookup: no set of the names)
      const n = s.size;
      let drop: Uint8Array | undefined;
      let dropped = 0;
      for (let j = 0; j < list.length; j++) {
        const i = s.shape.indexOf(forceStringNoCtx(list[j]!, span));
        if (i < 0) continue;
        drop ??= new Uint8Array(n);
        if (drop[i] === 0) {
          drop[i] = 1;
          dropped++;
        }
      }
      if (drop === undefined) return new Attrs(s.shape, s.vals.slice(), s.pos ?? s.shape);
      const keys = new Array<string>(n - dropped);
      const vals = new Array<Lazy>(n - dropped);
      const sk = s.names();
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (drop[i] !== 0) continue;
        keys[k] = sk[i]!;
        vals[k++] = s.vals[i]!;
      }
      return new Attrs(keys.length === 0 ? EMPTY_SHAPE : new Shape(keys), vals, s.pos ?? s.shape);
    },
  },
  {
    name: 'listToAttrs',
    arity: 1,
    doc: 'listToAttrs [ { name; value; } … ]: a set from name/value pairs; the first occurrence of a name wins.',
    impl: (_st, span, l) => listToAttrs(forceList(l, span), span),
  },
  {
    name: 'mapAttrs',
    arity: 2,
    doc: 'mapAttrs f set: { name = f name value; } for every attribute, lazily.',
    impl: (_st, span, f, a) => {
      const s = forceAttrs(a, span);
      const k = s.names();
      const sv = s.vals;
      const n = k.length;
      const vals = new Array<Lazy>(n);
      // one thunk per attribute holding only its index: the code (one per call) has the names
      // and values
      const ap = (fn: Lazy, i: number): Value => call2(force(fn), k[i]!, sv[i]!, span);
      (ap as unknown as Code).span = span;
      for (let i = 0; i < n; i++) vals[i] = new Thunk(ap, f, i);
      // Nix 2.8 gives the new attributes no position (unsafeGetAttrPos: null)
      return new Attrs(s.shape, vals, NO_POS);
    },
  },
  {
    name: 'intersectAttrs',
    arity: 2,
    doc: 'intersectAttrs e1 e2: the attributes of e2 whose names are in e1.',
    impl: (_st, span, a, b) => {
      const x = forceAttrs(a, span);
      const y = forceAttrs(b, span);
      const keys: string[] = [];
      const vals: Lazy[] = [];
      if (x.size < y.size) {
        const xk = x.names();
        for (let i = 0; i < xk.length; i++) {
          const v = y.get(xk[i]!);
          if (v === undefined) continue;
          keys.push(xk[i]!);
          vals.push(v);
        }
      } else {
        const yk = y.names();
        for (let i = 0; i < yk.length; i++) {
          if (!x.has(yk[i]!)) continue;
          keys.push(yk[i]!);
          vals.push(y.vals[i]!);
        }
      }
      return new Attrs(new Shape(keys), vals, y.pos ?? y.shape);
    },
  },
  {
    name: 'catAttrs',
    arity: 2,
    doc: 'catAttrs name list: the values of attribute name in the sets of list that have it.',
    impl: (_st, span, n, l) => {
      const name = forceStringNoCtx(n, span);
      const out: Lazy[] = [];
      for (const e of forceList(l, span)) {
        const v = forceAttrs(e, span).get(name);
        if (v !== undefined) out.push(v);
      }
      return out;
    },
  },
  {
    name: 'zipAttrsWith',
    arity: 2,
    doc: 'zipAttrsWith f sets: { name = f name [ values of name in each set, in order ]; }.',
    impl: (_st, span, f, l) => {
      const groups = new Map<string, Lazy[]>();
      for (const e of forceList(l, span)) {
        const s = forceAttrs(e, span);
        const sk = s.names();
        for (let i = 0; i < sk.length; i++) {
          const k = sk[i]!;
          const v = s.vals[i]!;
          const g = groups.get(k);
          if (g) g.push(v);
          else groups.set(k, [v]);
        }
      }
      const m = new Map<string, Lazy>();
      const ap = applier2(span);
      for (const [k, vs] of groups) m.set(k, new Thunk(ap, f, [k, vs]));
      return new Attrs(m);
    },
  },
  {
    name: 'functionArgs',
    arity: 1,
    doc: 'functionArgs f: { formal = hasDefault; } for a function with a set pattern, { } otherwise.',
    impl: (_st, span, f) => {
      const v = force(f);
      if (v instanceof PrimOp || v instanceof PrimOpApp) return Attrs.of([]);
      if (!(v instanceof Lambda)) throw new ImgError('E_TYPE', `'functionArgs' requires a function, got ${showType(v)}`, span);
      const m = new Map<string, Lazy>();
      const pos = new Map<string, Span>();
      for (const fm of v.f.formals ?? []) {
        m.set(fm.name, fm.def !== undefined);
        pos.set(fm.name, fm.span);
      }
      return new Attrs(m, undefined, pos);
    },
  },
];

void forceFunction;
void forceString;
