// eval/builtins/strings: string functions (toString, substring, replaceStrings, regexes,
// hashString, baseNameOf/dirOf, versions) with string context carried through every result.
// Never does IO.

import { ImgError } from '../../base/error.js';
import { digest, isHashAlgo, toHex } from '../../base/hash.js';
import { baseNameOf, dirOf } from '../lib/paths.js';
import { compileRegex, matchWhole, splitAll } from '../lib/regex.js';
import { ContextBuilder, coerceToString, forceInt, forceList, forceString, forceStringValue } from '../ops.js';
import { NixPath, force, mkString, type BuiltinDef, type Lazy, type Value } from '../value.js';
import type { EvalState } from '../state.js';

export function hashAlgo(name: string, span: Parameters<typeof forceInt>[1]) {
  if (!isHashAlgo(name)) throw new ImgError('E_EVAL', `unknown hash algorithm '${name}'`, span);
  return name;
}

export const STRING_BUILTINS: BuiltinDef[] = [
  {
    name: 'toString',
    arity: 1,
    doc: 'toString x: x as a string: ints in decimal, floats as %f, true as "1", false and null as "", lists joined by spaces, paths unchanged.',
    impl: (st: EvalState, span, a) => {
      const v = force(a);
      if (typeof v === 'string') return v;
      if (typeof v === 'number') return String(v);
      const ctx = new ContextBuilder();
      const s = coerceToString(st, v, ctx, true, false, span);
      return mkString(s, ctx.set);
    },
  },
  {
    name: 'stringLength',
    arity: 1,
    doc: 'stringLength s: the length of s in bytes.',
    impl: (st: EvalState, span, a) => {
      const v = force(a);
      return typeof v === 'string' ? v.length : coerceToString(st, v, undefined, false, true, span).length;
    },
  },
  {
    name: 'substring',
    arity: 3,
    doc: 'substring start len s: the bytes of s from start, at most len of them (a negative len means to the end).',
    impl: (st: EvalState, span, a, b, c) => {
      const start = forceInt(a, span);
      const len = forceInt(b, span);
      const v = force(c);
      const ctx = typeof v === 'string' ? undefined : new ContextBuilder();
      const s = ctx === undefined ? (v as string) : coerceToString(st, v, ctx, false, true, span);
      if (start < 0) throw new ImgError('E_EVAL', `negative start position in 'substring'`, span);
      const from = Number(start);
      const r = len < 0 ? s.slice(from) : s.slice(from, from + Number(len));
      return ctx === undefined ? r : mkString(r, ctx.set);
    },
  },
  {
    name: 'concatStringsSep',
    arity: 2,
    doc: 'concatStringsSep sep list: the strings of list joined with sep.',
    impl: (st: EvalState, span, a, b) => {
      const ctx = new ContextBuilder();
      const sep = forceStringValue(a, span);
      ctx.add(typeof sep === 'string' ? undefined : sep.ctx);
      const sepS = typeof sep === 'string' ? sep : sep.s;
      const list = forceList(b, span);
      let out = '';
      for (let i = 0; i < list.length; i++) {
        if (i > 0) out += sepS;
        out += coerceToString(st, list[i]!, ctx, false, true, span);
      }
      return mkString(out, ctx.set);
    },
  },
  {
    name: 'replaceStrings',
    arity: 3,
    doc: 'replaceStrings from to s: s with each occurrence of from[i] replaced by to[i], scanning left to right.',
    impl: (_st: EvalState, span, a, b, c) => {
      const from = forceList(a, span).map((x) => forceString(x, span));
      const toV = forceList(b, span).map((x) => forceStringValue(x, span));
      if (from.length !== toV.length) throw new ImgError('E_EVAL', `'from' and 'to' arguments to 'replaceStrings' have different lengths`, span);
      const sv = forceStringValue(c, span);
      const ctx = new ContextBuilder();
      const s = typeof sv === 'string' ? sv : (ctx.add(sv.ctx), sv.s);
      const to = toV.map((x) => (typeof x === 'string' ? x : x.s));
      // Nix scans left to right, trying the patterns in order at each byte. The same result:
      // each pattern's next occurrence (indexOf, renewed once the scan has passed it); the
      // earliest one wins, of those at the same place the first pattern. Unmatched text is
      // appended in slices.
      const n = from.length;
      const len = s.length;
      const next = new Array<number>(n);
      for (let i = 0; i < n; i++) next[i] = s.indexOf(from[i]!, 0);
      let res = '';
      let last = 0;
      let p = 0;
      for (;;) {
        let best = -1;
        let at = len + 1;
        for (let i = 0; i < n; i++) {
          let q = next[i]!;
          if (q >= 0 && q < p) next[i] = q = s.indexOf(from[i]!, p);
          if (q >= 0 && q < at) {
            at = q;
            best = i;
          }
        }
        if (best < 0) break;
        res += s.slice(last, at) + to[best]!;
        const tv = toV[best]!;
        if (typeof tv !== 'string') ctx.add(tv.ctx);
        const fl = from[best]!.length;
        if (fl === 0) {
          if (at < len) res += s[at];
          p = at + 1;
        } else p = at + fl;
        last = p;
        if (p > len) break;
      }
      if (last < len) res += s.slice(last);
      return mkString(res, ctx.set);
    },
  },
  {
    name: 'match',
    arity: 2,
    doc: 'match regex s: the capture groups (null for unmatched ones) if the POSIX ERE regex matches all of s, else null.',
    impl: (_st: EvalState, span, a, b) => {
      const re = compileRegexAt(forceString(a, span), span);
      const s = forceString(b, span);
      return matchWhole(re, s) as Value;
    },
  },
  {
    name: 'split',
    arity: 2,
    doc: 'split regex s: s split at the matches of regex, as [ before [ captures… ] between … after ].',
    impl: (_st: EvalState, span, a, b) => {
      const re = compileRegexAt(forceString(a, span), span);
      const s = forceString(b, span);
      return splitAll(re, s) as Value;
    },
  },
  {
    name: 'hashString',
    arity: 2,
    doc: 'hashString algo s: the hex digest of s with algo ("md5", "sha1", "sha256" or "sha512").',
    impl: (_st: EvalState, span, a, b) => {
      const algo = hashAlgo(forceString(a, span), span);
      const s = forceString(b, span);
      return toHex(digest(algo, Buffer.from(s, 'latin1')));
    },
  },
  {
    name: 'baseNameOf',
    arity: 1,
    doc: 'baseNameOf p: the last component of a path or string (a trailing slash is ignored).',
    impl: (st: EvalState, span, a) => {
      const ctx = new ContextBuilder();
      const s = coerceToString(st, a, ctx, false, false, span);
      return mkString(baseNameOf(s), ctx.set);
    },
  },
  {
    name: 'dirOf',
    arity: 1,
    doc: 'dirOf p: the directory part of a path (a path) or string (a string).',
    impl: (st: EvalState, span, a) => {
      const v = force(a);
      const ctx = new ContextBuilder();
      const s = coerceToString(st, v, ctx, false, false, span);
      const d = dirOf(s);
      if (v instanceof NixPath) return new NixPath(d);
      return mkString(d, ctx.set);
    },
  },
];

function compileRegexAt(pattern: string, span: Parameters<typeof forceInt>[1]) {
  try {
    return compileRegex(pattern);
  } catch (e) {
    if (e instanceof ImgError) throw e.at(span);
    throw e;
  }
}

export type { Lazy };
