// eval/builtins/context: string context introspection and surgery (getContext, hasContext,
// appendContext, unsafeDiscardStringContext, unsafeDiscardOutputDependency). A context element
// is `/nix/store/…` (a path), `=/nix/store/….drv` (all outputs) or `!out!/nix/store/….drv`.
// Never does IO.

import { ImgError } from '../../base/error.js';
import { ContextBuilder, coerceToString, forceAttrs, forceBool, forceList, forceStringNoCtx, forceStringValue } from '../ops.js';
import type { EvalState } from '../state.js';
import { Attrs, mkString, type BuiltinDef, type Lazy } from '../value.js';

const STORE_PATH = /^\/nix\/store\/[0-9abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+\-._?=]+$/;

export const CONTEXT_BUILTINS: BuiltinDef[] = [
  {
    name: 'unsafeDiscardStringContext',
    arity: 1,
    doc: 'unsafeDiscardStringContext s: s without its string context.',
    impl: (st: EvalState, span, a) => coerceToString(st, a, new ContextBuilder(), false, false, span),
  },
  {
    name: 'hasContext',
    arity: 1,
    doc: 'hasContext s: true if the string s has a context (refers to store paths).',
    impl: (_st, span, a) => typeof forceStringValue(a, span) !== 'string',
  },
  {
    name: 'getContext',
    arity: 1,
    doc: 'getContext s: the context of s as { "<path>" = { path = true; allOutputs = true; outputs = [ … ]; }; }.',
    impl: (_st, span, a) => {
      const v = forceStringValue(a, span);
      const infos = new Map<string, { path: boolean; all: boolean; outputs: string[] }>();
      const elems = typeof v === 'string' ? [] : [...v.ctx].sort();
      for (const c of elems) {
        let path = c;
        let kind: 'path' | 'all' | 'out' = 'path';
        let output = '';
        if (c.startsWith('=')) {
          path = c.slice(1);
          kind = 'all';
        } else if (c.startsWith('!')) {
          const i = c.indexOf('!', 1);
          output = c.slice(1, i);
          path = c.slice(i + 1);
          kind = 'out';
        }
        let info = infos.get(path);
        if (!info) infos.set(path, (info = { path: false, all: false, outputs: [] }));
        if (kind === 'path') info.path = true;
        else if (kind === 'all') info.all = true;
        else info.outputs.push(output);
      }
      const m = new Map<string, Lazy>();
      for (const [p, info] of infos) {
        const im = new Map<string, Lazy>();
        if (info.path) im.set('path', true);
        if (info.all) im.set('allOutputs', true);
        if (info.outputs.length) im.set('outputs', info.outputs);
        m.set(p, new Attrs(im));
      }
      return new Attrs(m);
    },
  },
  {
    name: 'appendContext',
    arity: 2,
    doc: 'appendContext s ctx: s with the context described by ctx (as getContext returns it) added.',
    impl: (_st, span, a, b) => {
      const v = forceStringValue(a, span);
      const ctx = new ContextBuilder();
      if (typeof v !== 'string') ctx.add(v.ctx);
      const s = typeof v === 'string' ? v : v.s;
      const attrs = forceAttrs(b, span);
      for (const name of attrs.names()) {
        if (!STORE_PATH.test(name)) throw new ImgError('E_EVAL', `context key '${name}' is not a store path`, span);
        const info = forceAttrs(attrs.get(name)!, span);
        const p = info.get('path');
        if (p !== undefined && forceBool(p, span)) ctx.addOne(name);
        const all = info.get('allOutputs');
        if (all !== undefined && forceBool(all, span)) {
          if (!name.endsWith('.drv')) throw new ImgError('E_EVAL', `tried to add all-outputs context of ${name}, which is not a derivation, to a string`, span);
          ctx.addOne('=' + name);
        }
        const outs = info.get('outputs');
        if (outs !== undefined) {
          const l = forceList(outs, span);
          if (l.length && !name.endsWith('.drv')) throw new ImgError('E_EVAL', `tried to add derivation output context of ${name}, which is not a derivation, to a string`, span);
          for (const o of l) ctx.addOne(`!${forceStringNoCtx(o, span)}!${name}`);
        }
      }
      return mkString(s, ctx.set);
    },
  },
  {
    name: 'unsafeDiscardOutputDependency',
    arity: 1,
    doc: 'unsafeDiscardOutputDependency s: s with whole-derivation context elements (=drv) turned into plain path ones.',
    impl: (_st, span, a) => {
      const v = forceStringValue(a, span);
      if (typeof v === 'string') return v;
      const ctx = new ContextBuilder();
      for (const c of v.ctx) ctx.addOne(c.startsWith('=') ? c.slice(1) : c);
      return mkString(v.s, ctx.set);
    },
  },
];
