// eval/builtins/control: errors and control (throw, abort, tryEval, seq, deepSeq, trace,
// addErrorContext), positions (unsafeGetAttrPos), imports and search paths (import,
// scopedImport, findFile), the environment (getEnv). IO goes through the state's host.

import { ImgError } from '../../base/error.js';
import { ContextBuilder, coerceToString, forceAttrs, forceList, forceString, forceStringNoCtx } from '../ops.js';
import { forceDeep, printValue } from '../print.js';
import type { EvalState, SearchPathEntry } from '../state.js';
import { Attrs, NixPath, NixString, force, posFileName, type BuiltinDef, type Lazy } from '../value.js';

export const CONTROL_BUILTINS: BuiltinDef[] = [
  {
    name: 'throw',
    arity: 1,
    doc: 'throw msg: raise an error that tryEval can catch.',
    impl: (st: EvalState, span, a) => {
      const msg = coerceToString(st, a, new ContextBuilder(), false, true, span);
      throw new ImgError('E_THROW', msg, span);
    },
  },
  {
    name: 'abort',
    arity: 1,
    doc: 'abort msg: abort evaluation with an error that tryEval does not catch.',
    impl: (st: EvalState, span, a) => {
      const msg = coerceToString(st, a, new ContextBuilder(), false, true, span);
      throw new ImgError('E_ABORT', `evaluation aborted with the following error message: '${msg}'`, span);
    },
  },
  {
    name: 'tryEval',
    arity: 1,
    doc: 'tryEval e: { success = true; value = e; } if e evaluates (to WHNF), { success = false; value = false; } if it throws or an assertion fails.',
    impl: (_st, _span, a) => {
      try {
        force(a);
        return Attrs.of([
            ['success', true],
            ['value', a],
          ]);
      } catch (e) {
        if (e instanceof ImgError && (e.code === 'E_THROW' || e.code === 'E_ASSERT' || e.code === 'E_SEARCH_PATH')) {
          return Attrs.of([
              ['success', false],
              ['value', false],
            ]);
        }
        throw e;
      }
    },
  },
  {
    name: 'seq',
    arity: 2,
    doc: 'seq e1 e2: force e1 (to WHNF), then return e2.',
    impl: (_st, _span, a, b) => {
      force(a);
      return force(b);
    },
  },
  {
    name: 'deepSeq',
    arity: 2,
    doc: 'deepSeq e1 e2: force e1 completely, then return e2.',
    impl: (_st, _span, a, b) => {
      forceDeep(a);
      return force(b);
    },
  },
  {
    name: 'trace',
    arity: 2,
    doc: 'trace e1 e2: print "trace: e1" on stderr (strings raw, other values unforced), then return e2.',
    impl: (st: EvalState, _span, a, b) => {
      const v = force(a);
      if (typeof v === 'string') st.host.trace(`trace: ${v}`);
      else if (v instanceof NixString) st.host.trace(`trace: ${v.s}`);
      else st.host.trace(`trace: ${printValue(v, { strict: false })}`);
      return force(b);
    },
  },
  {
    name: 'addErrorContext',
    arity: 2,
    doc: 'addErrorContext msg e: e, with msg added to the trace of any error it raises.',
    impl: (st: EvalState, span, a, b) => {
      try {
        return force(b);
      } catch (e) {
        if (e instanceof ImgError) {
          const msg = coerceToString(st, a, new ContextBuilder(), false, false, span);
          e.addTrace(msg, undefined);
        }
        throw e;
      }
    },
  },
  {
    name: 'unsafeGetAttrPos',
    arity: 2,
    doc: 'unsafeGetAttrPos name set: { file; line; column; } of where the attribute is defined, or null.',
    impl: (_st, span, n, s) => {
      const name = forceStringNoCtx(n, span);
      const a = forceAttrs(s, span);
      if (!a.has(name)) return null;
      const p = a.posOf(name);
      if (p === undefined) return null;
      const { line, col } = p.file.position(p.start);
      return Attrs.of([
          ['column', col],
          ['file', posFileName(p.file)],
          ['line', line],
        ]);
    },
  },
  {
    name: 'import',
    arity: 1,
    doc: 'import path: evaluate the file (a directory means its default.nix); cached per file.',
    impl: (st: EvalState, span, a) => st.importFile(st.realPath(a, span), span),
  },
  {
    name: 'scopedImport',
    arity: 2,
    doc: 'scopedImport attrs path: import path with the names of attrs in scope (they shadow the globals).',
    impl: (st: EvalState, span, s, a) => {
      const attrs = forceAttrs(s, span);
      return st.scopedImport(attrs, st.realPath(a, span), span);
    },
  },
  {
    name: 'findFile',
    arity: 2,
    doc: 'findFile searchPath name: the lookup behind <name>: the first entry { prefix; path; } where the file exists.',
    impl: (st: EvalState, span, sp, n) => {
      const entries: SearchPathEntry[] = [];
      for (const e of forceList(sp, span)) {
        const a = forceAttrs(e, span);
        const p = a.get('prefix');
        const prefix = p === undefined ? '' : forceStringNoCtx(p, span);
        const px = a.get('path');
        if (px === undefined) throw new ImgError('E_MISSING_ATTR', `attribute 'path' missing`, span);
        const ctx = new ContextBuilder();
        const path = coerceToString(st, px, ctx, false, false, span);
        if (ctx.set) st.realiseContext(ctx.set, span);
        entries.push({ prefix, path });
      }
      const name = forceStringNoCtx(n, span);
      return new NixPath(st.findFile(entries, name, span));
    },
  },
  {
    name: 'getEnv',
    arity: 1,
    doc: 'getEnv name: the value of environment variable name, or "" if it is not set.',
    impl: (st: EvalState, span, a) => st.host.getEnv(forceStringNoCtx(a, span)) ?? '',
  },
];

void forceString;
