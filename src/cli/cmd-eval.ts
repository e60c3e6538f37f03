// cli/cmd-eval: `imgeval eval`, spelled like `nix-instantiate --eval --strict`: evaluates a file
// or an expression, selects `-A` paths, auto-calls functions with `--arg`/`--argstr`, forces the
// result deeply and prints it (Nix form, `--json` or `--xml`). `--doc NAME` prints a builtin's
// doc. Evaluation runs on the main thread, which bin/imgeval.js gives a 256 MiB stack; when node
// was started without a big stack and the evaluation overflows it, it is re-run in a worker
// thread with a large stack (trace lines already printed are not printed twice).

import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { ImgError } from '../base/error.js';
import { renderError } from '../base/code-frame.js';
import { ALL_BUILTINS, ContextBuilder, forceDeep, printJSON, printValue, printXML } from '../eval/index.js';
import { isStackOverflow } from '../eval/ops.js';
import { UsageError, flagAll, flagSet, flagValue, parseArgs, type FlagSpec } from './args.js';
import { autoArgsFrom, autoCall, latin1, loadRoot, searchPathFrom, selectAttrPath } from './input.js';
import { createSession } from './session.js';
import { bundledEntry } from './bundle.js';
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
  const searchPath = searchPathFrom(parsed, env);
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
    const autoArgs = autoArgsFrom(parsed, st, cwd);
    const root = loadRoot(st, isExpr, input, cwd);
    const attrPaths = flagAll(parsed, '--attr').map(([p]) => latin1(p!));
    if (attrPaths.length === 0) attrPaths.push('');
    const outputs: string[] = [];
    for (const ap of attrPaths) {
      const v = autoCall(selectAttrPath(root, ap, autoArgs).v, autoArgs);
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

/**
 * Stack size (MiB) of the worker that re-runs an evaluation which overflowed the main stack
 * (IMGEVAL_EVAL_STACK_MB overrides it). 384 MiB holds ~500k levels of `f n = 1 + f (n - 1)`.
 */
export const WORKER_STACK_MB = 384;

function workerStackMb(): number {
  const v = Number(process.env.IMGEVAL_EVAL_STACK_MB);
  return Number.isFinite(v) && v >= 4 ? v : WORKER_STACK_MB;
}

/** A main-thread JS stack (KiB) from which an overflow is final (bin/imgeval.js gives 256 MiB). */
const BIG_STACK_KB = 64 * 1024;

/** The JS stack (KiB) of this thread: node's `--stack-size`, else V8's default. */
function mainStackKb(): number {
  let kb = 984;
  for (const a of process.execArgv) if (a.startsWith('--stack-size=')) kb = Number(a.slice('--stack-size='.length));
  return Number.isFinite(kb) ? kb : 984;
}

async function runInWorker(argv: string[], io: IO, ctx: EvalContext): Promise<number> {
  const options = {
    workerData: { argv, ctx },
    // a big young generation: each scavenge scans the whole (deep) stack; with 256 MiB the 100k-deep
    // bench (06) needs one scavenge instead of five (CPU 1.9 s -> 1.5 s, RSS 270 -> 300 MB)
    resourceLimits: { stackSizeMb: workerStackMb(), maxYoungGenerationSizeMb: 256 },
    stdout: false,
    stderr: false,
  };
  // V8 reads heap flags when an isolate is created: give the worker a large young generation
  // from the start (each scavenge scans the whole, deep, stack: fewer scavenges is faster).
  if (process.env.IMGEVAL_NO_SEMI !== '1') setFlagsFromString('--min-semi-space-size=128');
  let worker: Worker;
  if (import.meta.url.endsWith('.ts')) {
    // running from sources under tsx (tests, development): register its loader in the worker
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./eval-worker.ts', import.meta.url).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    worker = new Worker(code, { ...options, eval: true });
  } else worker = new Worker(bundledEntry('eval-worker') ?? new URL('./eval-worker.js', import.meta.url), options);
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
    // started by bin/imgeval.js with a big stack already: no bigger one to retry on
    if (mainStackKb() >= BIG_STACK_KB) return reportStackOverflow(r, io);
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
