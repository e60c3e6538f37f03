// cli/eval-input: what `instantiate` and `show-derivation` share — the nix-instantiate style
// input flags (FILE | -E EXPR, -A, --arg, --argstr, -I, --store), a writing session for them,
// and Nix's getDerivations (get-drvs.cc): which derivations a value denotes (a derivation; the
// derivations among a set's attributes, recursing into sets with `recurseForDerivations =
// true`; the elements of a list). Never prints.

import { ImgError } from '../base/error.js';
import { coerceToString, forceBool, forceStringNoCtx, isDerivation } from '../eval/ops.js';
import { ContextBuilder } from '../eval/index.js';
import { Attrs, force, type Lazy, type Value } from '../eval/value.js';
import { UsageError, flagAll, flagSet, flagValue, type FlagSpec, type ParsedArgs } from './args.js';
import { autoArgsFrom, autoCall, latin1, loadRoot, searchPathFrom, selectAttrPath } from './input.js';
import { createSession, type Session } from './session.js';

export const INPUT_FLAGS: Record<string, FlagSpec> = {
  '--expr': { arity: 0, aliases: ['-E'] },
  '--attr': { arity: 1, aliases: ['-A'] },
  '--arg': { arity: 2 },
  '--argstr': { arity: 2 },
  '--include': { arity: 1, aliases: ['-I'] },
  '--store': { arity: 1 },
  '--show-trace': { arity: 0 },
};

export interface InputContext {
  cwd: string;
  env: Record<string, string | undefined>;
  trace: (line: string) => void;
}

/** A writing session for the flags (store root from --store, IMGEVAL_STORE or the XDG default). */
export function sessionFor(parsed: ParsedArgs, ctx: InputContext): Session {
  const env = ctx.env;
  const searchPath = searchPathFrom(parsed, env);
  return createSession({
    storeRoot: flagValue(parsed, '--store'),
    env,
    cwd: ctx.cwd,
    searchPath,
    home: env.HOME !== undefined ? latin1(env.HOME) : undefined,
    readOnly: false,
    trace: ctx.trace,
  });
}

/** Evaluates the input (FILE or -E EXPR) and selects each -A path (auto-called): the values. */
export function evalInputs(session: Session, parsed: ParsedArgs, input: string, cwdNative: string): Value[] {
  const st = session.state;
  const cwd = latin1(cwdNative);
  const autoArgs = autoArgsFrom(parsed, st, cwd);
  const root = loadRoot(st, flagSet(parsed, '--expr'), input, cwd);
  const attrPaths = flagAll(parsed, '--attr').map(([p]) => latin1(p!));
  if (attrPaths.length === 0) attrPaths.push('');
  return attrPaths.map((ap) => autoCall(selectAttrPath(root, ap, autoArgs).v, autoArgs));
}

/** One derivation found in a value: its drvPath and the output it stands for. */
export interface FoundDerivation {
  attrPath: string;
  drvPath: string;
  outputName: string;
}

const ATTR_NAME = /^[A-Za-z_][A-Za-z0-9\-_+]*$/;

/** Nix's getDerivations: the derivations a value denotes, in Nix's order, without duplicates. */
export function getDerivations(session: Session, v: Value, autoArgs: Map<string, Lazy> = new Map()): FoundDerivation[] {
  const st = session.state;
  const out: FoundDerivation[] = [];
  const done = new Set<Attrs>();
  /** True when `x` is not a derivation (the caller may look inside it). */
  const take = (x: Value, attrPath: string): boolean => {
    if (!(x instanceof Attrs) || !isDerivation(x)) return true;
    if (done.has(x)) return false;
    done.add(x);
    const dp = x.m.get('drvPath');
    if (dp === undefined) throw new ImgError('E_EVAL', `derivation${attrPath ? ` '${attrPath}'` : ''} has no 'drvPath' attribute`);
    const drvPath = coerceToString(st, dp, new ContextBuilder(), false, false, undefined);
    const on = x.m.get('outputName');
    const outputName = on === undefined ? '' : forceStringNoCtx(on, undefined);
    if (outputName === '') throw new ImgError('E_EVAL', `derivation '${drvPath}' lacks an 'outputName' attribute`);
    out.push({ attrPath, drvPath, outputName });
    return false;
  };
  const join = (p: string, n: string) => (p === '' ? n : `${p}.${n}`);
  const walk = (x0: Value, prefix: string): void => {
    const x = autoCall(x0, autoArgs);
    if (!take(x, prefix)) return;
    if (x instanceof Attrs) {
      for (const name of x.names()) {
        if (!ATTR_NAME.test(name)) continue;
        const y = force(x.m.get(name)!);
        if (take(y, join(prefix, name)) && y instanceof Attrs) {
          const r = y.m.get('recurseForDerivations');
          if (r !== undefined && forceBool(r, undefined)) walk(y, join(prefix, name));
        }
      }
    } else if (Array.isArray(x)) {
      x.forEach((e, i) => {
        const y = force(e);
        if (take(y, join(prefix, String(i)))) walk(y, join(prefix, String(i)));
      });
    } else throw new ImgError('E_TYPE', 'expression does not evaluate to a derivation (or a set or list of those)');
  };
  walk(v, '');
  return out;
}

export function requireInput(parsed: ParsedArgs, command: string): string {
  const isExpr = flagSet(parsed, '--expr');
  if (parsed.positional.length === 0 && !isExpr) throw new UsageError(`give a FILE or -E EXPR (see 'imgeval ${command} --help')`);
  if (parsed.positional.length > 1) throw new UsageError(`expected one FILE or EXPR, got ${parsed.positional.length}`);
  return parsed.positional[0] ?? '';
}
