// cli/cmd-eval: `imgeval eval`, spelled like `nix-instantiate --eval --strict`: evaluates a file
// or an expression, selects `-A` paths, auto-calls functions with `--arg`/`--argstr`, forces the
// result deeply and prints it (Nix form, `--json` or `--xml`). `--doc NAME` prints a builtin's
// doc. Evaluation first runs on the main thread; if it overflows the JS stack it is re-run in a
// worker thread with a large stack (trace lines already printed are not printed twice).

import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { ImgError } from '../base/error.js';
import { renderError } from '../base/code-frame.js';
import { SourceFile } from '../base/source.js';
import { ALL_BUILTINS, ContextBuilder, EvalState, forceDeep, printJSON, printValue, printXML, type SearchPathEntry } from '../eval/index.js';
import { callValue, isStackOverflow } from '../eval/ops.js';
import { Attrs, Lambda, Thunk, force, type Lazy, type Value } from '../eval/value.js';
import { UsageError, flagAll, flagSet, flagValue, parseArgs, type FlagSpec } from './args.js';
import { createSession } from './session.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const FLAGS: Record<string, FlagSpec> = {
  '--expr': { arity: 0, aliases: ['-E'] },
  '--attr': { arity: 1, aliases: ['-A'] },
  '--arg': { arity: 2 },
  '--argstr': { arity: 2 },
  '--include': { arity: 1, aliases: ['-I'] },
  '--json': { arity: 0 },
  '--xml': { arity: 0 },
  '--strict': { arity: 0 },
  '--eval': { arity: 0 },
  '--no-location': { arity: 0 },
  '--show-trace': { arity: 0 },
  '--no-show-trace': { arity: 0 },
  '--read-write-mode': { arity: 0 },
  '--readonly-mode': { arity: 0 },
  '--doc': { arity: 1 },
  '--store': { arity: 1 },
};

const USAGE = `usage: imgeval eval [FILE | -E EXPR] [-A ATTRPATH]… [--arg NAME EXPR]… [--argstr NAME VALUE]…
                    [-I [NAME=]PATH]… [--json | --xml [--no-location]] [--strict] [--eval]
       imgeval eval --doc NAME

Evaluates FILE (a .img or .nix file, or a directory holding default.nix / default.img) or the
expression EXPR, forces the result deeply and prints it as \`nix-instantiate --eval --strict\` does.
  -A PATH            select an attribute path (numbers index lists); may repeat
  --arg N E          auto-call a function result with N = the expression E
  --argstr N S       auto-call a function result with N = the string S
  -I [NAME=]PATH     add a search path entry for <NAME/…> (before IMG_PATH, then NIX_PATH)
  --json, --xml      print as JSON / as toXML's XML (--no-location drops positions)
  --doc NAME         print the documentation of builtins.NAME ('--doc builtins' lists them)
  --store DIR        the store's physical root (default: $IMGEVAL_STORE, else $XDG_DATA_HOME/imgeval/store)
  --readonly-mode    only compute store paths: write no .drv file, toFile or source path into the
                     store (by default they are written, so that printed paths exist; Nix's
                     nix-instantiate --eval needs --read-write-mode for that, accepted here too)
Exit status: 0 ok, 1 evaluation or syntax error, 2 bad usage.`;

/** Where an evaluation runs: directory, environment, and trace lines to skip (already shown). */
export interface EvalContext {
  cwd: string;
  env: Record<string, string | undefined>;
  skipTraces?: number;
}

/** Outcome of one run: the exit code and how many trace lines were emitted. */
export interface EvalRun {
  code: number;
  traces: number;
  /** True when the JS stack overflowed (the caller may retry with a bigger stack). */
  stackOverflow: boolean;
}

const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

export function parseSearchPathEntries(s: string): SearchPathEntry[] {
  const out: SearchPathEntry[] = [];
  // NIX_PATH syntax: colon-separated, but a URL's "scheme://" keeps its colon.
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
  for (const p of parts) if (p !== '') out.push(parseSearchPathEntry(p));
  return out;
}

export function parseSearchPathEntry(p: string): SearchPathEntry {
  const eq = p.indexOf('=');
  return eq < 0 ? { prefix: '', path: p } : { prefix: p.slice(0, eq), path: p.slice(eq + 1) };
}

/** Runs `imgeval eval` synchronously in this thread. */
export function runEval(argv: string[], io: IO, ctx: EvalContext): EvalRun {
  const parsed = parseArgs(argv, FLAGS);
  let traces = 0;
  const doc = flagAll(parsed, '--doc');
  if (doc.length > 0) {
    const name = doc[doc.length - 1]![0]!;
    if (name === 'builtins') {
      for (const d of [...ALL_BUILTINS].sort((a, b) => (a.name < b.name ? -1 : 1))) io.out(`${d.name}\t${d.doc}\n`);
      return { code: 0, traces, stackOverflow: false };
    }
    const d = ALL_BUILTINS.find((b) => b.name === name || `__${b.name}` === name);
    if (!d) throw new UsageError(`no builtin named '${name}' (try '--doc builtins')`);
    io.out(`${d.doc}\n`);
    return { code: 0, traces, stackOverflow: false };
  }
  const isExpr = flagSet(parsed, '--expr');
  if (parsed.positional.length === 0 && !isExpr) throw new UsageError(`give a FILE or -E EXPR (see 'imgeval eval --help')`);
  if (parsed.positional.length > 1) throw new UsageError(`expected one FILE or EXPR, got ${parsed.positional.length}`);
  if (flagSet(parsed, '--json') && flagSet(parsed, '--xml')) throw new UsageError(`--json and --xml cannot be used together`);
  const input = parsed.positional[0] ?? '';
  const cwd = latin1(ctx.cwd);
  const env = ctx.env;
  const searchPath: SearchPathEntry[] = [];
  for (const [p] of flagAll(parsed, '--include')) searchPath.push(parseSearchPathEntry(latin1(p!)));
  if (env.IMG_PATH) searchPath.push(...parseSearchPathEntries(latin1(env.IMG_PATH)));
  if (env.NIX_PATH) searchPath.push(...parseSearchPathEntries(latin1(env.NIX_PATH)));
  const skip = ctx.skipTraces ?? 0;
  // The composition root (cli/session.ts): store built-ins, the prelude, the store opened lazily;
  // the .drv files (and toFile/source paths) of what is evaluated are written into the store,
  // unless --readonly-mode (nix-instantiate --eval is read-only unless --read-write-mode).
  const st = createSession({
    storeRoot: flagValue(parsed, '--store'),
    env,
    cwd: ctx.cwd,
    searchPath,
    home: env.HOME !== undefined ? latin1(env.HOME) : undefined,
    readOnly: flagSet(parsed, '--readonly-mode') && !flagSet(parsed, '--read-write-mode'),
    trace: (line) => {
      if (traces++ >= skip) io.err(`${line}\n`);
    },
  }).state;
  try {
    // Auto-arguments are lazy: each --arg expression is evaluated only if used.
    const autoArgs = new Map<string, Lazy>();
    for (const [name, expr] of flagAll(parsed, '--arg')) {
      const file = new SourceFile('(string)', latin1(expr!), cwd);
      autoArgs.set(latin1(name!), new Thunk(() => st.evalSource(file), null));
    }
    for (const [name, value] of flagAll(parsed, '--argstr')) autoArgs.set(latin1(name!), latin1(value!));

    let root: Value;
    if (isExpr) root = st.evalSource(new SourceFile('(string)', latin1(input), cwd));
    else {
      const arg = latin1(input);
      let path: string;
      if (arg.startsWith('<') && arg.endsWith('>')) path = st.findFile(st.searchPath, arg.slice(1, -1), undefined);
      else path = st.canonPath(arg.startsWith('/') ? arg : `${cwd}/${arg}`);
      root = st.importFile(path, undefined);
    }
    const attrPaths = flagAll(parsed, '--attr').map(([p]) => latin1(p!));
    if (attrPaths.length === 0) attrPaths.push('');
    const outputs: string[] = [];
    for (const ap of attrPaths) {
      let v = selectAttrPath(root, ap, autoArgs);
      v = autoCall(v, autoArgs);
      if (flagSet(parsed, '--json')) {
        forceDeep(v);
        // nix-instantiate --eval --json prints no newline after the JSON
        outputs.push(printJSON(st, v, new ContextBuilder(), undefined));
      } else if (flagSet(parsed, '--xml')) {
        outputs.push(printXML(v, { strict: true, location: !flagSet(parsed, '--no-location'), ctx: new ContextBuilder() }));
      } else {
        outputs.push(printValue(v, { strict: true }) + '\n');
      }
    }
    for (const o of outputs) io.out(o);
    return { code: 0, traces, stackOverflow: false };
  } catch (e) {
    if (isStackOverflow(e)) {
      e = new ImgError('E_STACK', 'stack overflow (possible infinite recursion)');
    }
    if (e instanceof ImgError) {
      if (e.code === 'E_STACK') return { code: 1, traces, stackOverflow: true, error: e } as EvalRun & { error: ImgError };
      io.err(renderForIO(e, io));
      return { code: 1, traces, stackOverflow: false };
    }
    throw e;
  }
}

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

export function selectAttrPath(root: Value, path: string, args: Map<string, Lazy>): Value {
  if (path === '') return root;
  let v = root;
  const parts = splitAttrPath(path);
  for (const part of parts) {
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
    v = force(x);
  }
  return v;
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

/**
 * Stack size (MiB) of the worker that re-runs an evaluation which overflowed the main stack
 * (IMGEVAL_EVAL_STACK_MB overrides it). 384 MiB holds ~500k levels of `f n = 1 + f (n - 1)`.
 */
export const WORKER_STACK_MB = 384;

function workerStackMb(): number {
  const v = Number(process.env.IMGEVAL_EVAL_STACK_MB);
  return Number.isFinite(v) && v >= 4 ? v : WORKER_STACK_MB;
}

async function runInWorker(argv: string[], io: IO, ctx: EvalContext): Promise<number> {
  const options = {
    workerData: { argv, ctx },
    // a bigger young generation: fewer scavenges, each of which scans the (deep) stack
    resourceLimits: { stackSizeMb: workerStackMb(), maxYoungGenerationSizeMb: 64 },
    stdout: false,
    stderr: false,
  };
  // V8 reads heap flags when an isolate is created: give the worker a large young generation
  // from the start (each scavenge scans the whole, deep, stack: fewer scavenges is faster).
  if (process.env.IMGEVAL_NO_SEMI !== '1') setFlagsFromString('--min-semi-space-size=32');
  let worker: Worker;
  if (import.meta.url.endsWith('.ts')) {
    // running from sources under tsx (tests, development): register its loader in the worker
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./eval-worker.ts', import.meta.url).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    worker = new Worker(code, { ...options, eval: true });
  } else worker = new Worker(new URL('./eval-worker.js', import.meta.url), options);
  return await new Promise<number>((resolve, reject) => {
    let code = 1;
    worker.on('message', (m: { out?: string; err?: string; code?: number }) => {
      if (m.out !== undefined) io.out(m.out);
      if (m.err !== undefined) io.err(m.err);
      if (m.code !== undefined) code = m.code;
    });
    worker.on('error', reject);
    worker.on('exit', () => resolve(code));
  });
}

export const command: Command = {
  summary: 'evaluate an expression or file and print its value (like nix-instantiate --eval --strict)',
  usage: USAGE,
  async run(args: string[], io: IO): Promise<number> {
    const ctx: EvalContext = { cwd: process.cwd(), env: process.env };
    const r = runEval(args, io, ctx);
    if (!r.stackOverflow) return r.code;
    return runInWorker(args, io, { ...ctx, env: { ...process.env }, skipTraces: r.traces });
  },
};

/** Renders the stack-overflow error of a run that had no bigger stack to retry on. */
export function reportStackOverflow(r: EvalRun, io: IO): number {
  const e = (r as EvalRun & { error?: ImgError }).error ?? new ImgError('E_STACK', 'stack overflow (possible infinite recursion)');
  io.err(renderForIO(e, io));
  return 1;
}

/** An error rendered for the IO (renderError already gives a byte string). */
export function renderForIO(e: ImgError, io: IO): string {
  return renderError(e, { color: io.errIsTTY });
}
