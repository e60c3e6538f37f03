// eval/builtins/attrs: attribute-set functions (attrNames, mapAttrs, listToAttrs, zipAttrsWith,
// functionArgs, …). Results iterate in bytewise name order where Nix's do. Never does IO.

import { ImgError } from '../../base/error.js';
import type { Span } from '../../base/source.js';
import { forceAttrs, forceFunction, forceList, forceString, forceStringNoCtx, applier2 } from '../ops.js';
import { Attrs, Shape, Thunk, Lambda, PrimOp, PrimOpApp, force, showType, type BuiltinDef, type Lazy } from '../value.js';

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
      if (x === undefined) throw new ImgError('E_MISSING_ATTR', `attribute '${name}' missing`, span);
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
      const drop = new Set<string>();
      for (const n of forceList(l, span)) drop.add(forceStringNoCtx(n, span));
      const keys: string[] = [];
      const vals: Lazy[] = [];
      const sk = s.names();
      for (let i = 0; i < sk.length; i++) {
        if (drop.has(sk[i]!)) continue;
        keys.push(sk[i]!);
        vals.push(s.vals[i]!);
      }
      return new Attrs(new Shape(keys), vals, s.pos ?? s.shape);
    },
  },
  {
    name: 'listToAttrs',
    arity: 1,
    doc: 'listToAttrs [ { name; value; } … ]: a set from name/value pairs; the first occurrence of a name wins.',
    impl: (_st, span, l) => {
      const m = new Map<string, Lazy>();
      for (const e of forceList(l, span)) {
        const a = forceAttrs(e, span);
        const n = a.get('name');
        if (n === undefined) throw new ImgError('E_MISSING_ATTR', `attribute 'name' missing`, span);
        const name = forceStringNoCtx(n, span);
        if (m.has(name)) continue;
        const v = a.get('value');
        if (v === undefined) throw new ImgError('E_MISSING_ATTR', `attribute 'value' missing`, span);
        m.set(name, v);
      }
      return new Attrs(m);
    },
  },
  {
    name: 'mapAttrs',
    arity: 2,
    doc: 'mapAttrs f set: { name = f name value; } for every attribute, lazily.',
    impl: (_st, span, f, a) => {
      const s = forceAttrs(a, span);
      const k = s.names();
      const vals = new Array<Lazy>(k.length);
      const ap = applier2(span);
      for (let i = 0; i < k.length; i++) vals[i] = new Thunk(ap, f, [k[i]!, s.vals[i]!]);
      return new Attrs(s.shape, vals, s.pos);
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
