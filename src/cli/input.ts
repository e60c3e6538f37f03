// cli/input: the nix-instantiate-style input that `eval`, `instantiate`, `show-derivation` and
// `build` share: search-path entries (-I, IMG_PATH, NIX_PATH), the auto-call arguments
// (--arg/--argstr), loading FILE / -E EXPR / <path>, following -A attribute paths and
// auto-calling functions as Nix does. Never prints.

import { ImgError } from '../base/error.js';
import { SourceFile, type Span } from '../base/source.js';
import type { EvalState, SearchPathEntry } from '../eval/index.js';
import { callValue } from '../eval/ops.js';
import { Attrs, Lambda, Thunk, force, type Lazy, type Value } from '../eval/value.js';
import { UsageError, flagAll, type ParsedArgs } from './args.js';

/** A command-line (UTF-16) string as the byte string the evaluator works with. */
export const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

export function parseSearchPathEntry(p: string): SearchPathEntry {
  const eq = p.indexOf('=');
  return eq < 0 ? { prefix: '', path: p } : { prefix: p.slice(0, eq), path: p.slice(eq + 1) };
}

/** NIX_PATH syntax: colon-separated entries, except that a URL's `scheme://` keeps its colon. */
export function parseSearchPathEntries(s: string): SearchPathEntry[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === ':' && !s.startsWith('//', i + 1)) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.filter((p) => p !== '').map(parseSearchPathEntry);
}

/** The search path in lookup order: `-I` entries, then IMG_PATH, then NIX_PATH. */
export function searchPathFrom(parsed: ParsedArgs, env: Record<string, string | undefined>): SearchPathEntry[] {
  const out: SearchPathEntry[] = [];
  for (const [p] of flagAll(parsed, '--include')) out.push(parseSearchPathEntry(latin1(p!)));
  if (env.IMG_PATH) out.push(...parseSearchPathEntries(latin1(env.IMG_PATH)));
  if (env.NIX_PATH) out.push(...parseSearchPathEntries(latin1(env.NIX_PATH)));
  return out;
}

/** The `--arg NAME EXPR` (evaluated lazily) and `--argstr NAME VALUE` arguments. */
export function autoArgsFrom(parsed: ParsedArgs, st: EvalState, cwd: string): Map<string, Lazy> {
  const args = new Map<string, Lazy>();
  for (const [name, expr] of flagAll(parsed, '--arg')) {
    const file = new SourceFile('(string)', latin1(expr!), cwd);
    args.set(latin1(name!), new Thunk(() => st.evalSource(file), null));
  }
  for (const [name, value] of flagAll(parsed, '--argstr')) args.set(latin1(name!), latin1(value!));
  return args;
}

/** Evaluates `-E EXPR`, or imports FILE (relative to `cwd`) or `<search/path>`. */
export function loadRoot(st: EvalState, isExpr: boolean, input: string, cwd: string): Value {
  if (isExpr) return st.evalSource(new SourceFile('(string)', latin1(input), cwd));
  const arg = latin1(input);
  let path: string;
  if (arg.startsWith('<') && arg.endsWith('>')) path = st.findFile(st.searchPath, arg.slice(1, -1), undefined);
  else path = st.canonPath(arg.startsWith('/') ? arg : `${cwd}/${arg}`);
  return st.importFile(path, undefined);
}

/**
 * Nix's auto-calling: with --arg/--argstr given, a function with a `{…}` pattern is called with
 * the matching arguments (all of them with `...`); a set with `__functor` is unwrapped first.
 */
export function autoCall(v: Value, args: Map<string, Lazy>): Value {
  if (args.size === 0) return v;
  if (v instanceof Attrs) {
    const f = v.get('__functor');
    if (f !== undefined) return autoCall(callValue(force(f), [v], undefined), args);
  }
  if (!(v instanceof Lambda) || v.f.formals === undefined) return v;
  const m = new Map<string, Lazy>();
  if (v.f.ellipsis) for (const [k, x] of args) m.set(k, x);
  else
    for (const fm of v.f.formals) {
      const x = args.get(fm.name);
      if (x !== undefined) m.set(fm.name, x);
      else if (fm.def === undefined)
        throw new ImgError('E_CALL', `cannot evaluate a function that has an argument without a value ('${fm.name}')`, fm.span, [
          { message: `pass it with --arg ${fm.name} EXPR or --argstr ${fm.name} VALUE` },
        ]);
    }
  return callValue(v, [new Attrs(m)], undefined);
}

/**
 * Follows an `-A` attribute path (numbers index lists; functions on the way are auto-called).
 * Returns the value and where its attribute was defined (for build errors).
 */
export function selectAttrPath(root: Value, path: string, args: Map<string, Lazy>): { v: Value; span: Span | undefined } {
  if (path === '') return { v: root, span: undefined };
  let v = root;
  let span: Span | undefined;
  for (const part of splitAttrPath(path)) {
    v = autoCall(v, args);
    if (/^[0-9]+$/.test(part) && Array.isArray(v)) {
      const i = Number(part);
      if (i >= v.length) throw new ImgError('E_EVAL', `list index ${i} in selection path '${path}' is out of range`);
      v = force(v[i]!);
      continue;
    }
    if (!(v instanceof Attrs)) throw new ImgError('E_TYPE', `the expression selected by the selection path '${path}' should be a set but is ${typeName(v)}`);
    const x = v.get(part);
    if (x === undefined) throw new ImgError('E_MISSING_ATTR', `attribute '${part}' in selection path '${path}' not found`);
    span = v.posOf(part) ?? span;
    v = force(x);
  }
  return { v, span };
}

function typeName(v: Value): string {
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'number' ? 'an integer' : 'not a set';
}

function splitAttrPath(p: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '.') {
      out.push(cur);
      cur = '';
    } else if (c === '"') {
      const j = p.indexOf('"', i + 1);
      if (j < 0) throw new UsageError(`missing closing quote in selection path '${p}'`);
      cur += p.slice(i + 1, j);
      i = j;
    } else cur += c;
  }
  out.push(cur);
  return out;
}
