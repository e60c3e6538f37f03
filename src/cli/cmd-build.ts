// cli/cmd-build: `imgeval build`, spelled like `nix-build`: evaluates FILE or -E EXPR (through
// the evaluation session, which writes the .drv files into the store), selects -A paths,
// auto-calls functions with --arg/--argstr, collects the derivations (a derivation, a list, or
// the derivations among a set's attributes), realises them with the build scheduler, makes
// `result` links (result-<output> for outputs other than out, result-2… for further targets) to
// the physical output paths, registered as GC roots, and prints the output paths (/nix/store/…),
// one per line. `.drv` store paths given as arguments (optionally `drv!output`) are built
// without evaluating anything. Progress goes to stderr (cli/progress.ts).

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ImgError } from '../base/error.js';
import { SourceFile, type Span } from '../base/source.js';
import { DEFAULT_BUILTINS } from '../build/builtins/index.js';
import { IMAGE_BUILDERS } from '../image/builders/index.js';

/** The built-in builders `imgeval build` runs: build/'s defaults plus the image builders. */
const BUILTINS = DEFAULT_BUILTINS.with(IMAGE_BUILDERS);
import { realise, type DerivedPath } from '../build/scheduler.js';
import { STORE_DIR, isDerivationPath } from '../derivation/store-path.js';
import { callValue } from '../eval/ops.js';
import { Attrs, NixString, force, type Lazy, type Value } from '../eval/value.js';
import { LocalStore } from '../store/local-store.js';
import { UsageError, flagAll, flagSet, flagValue, parseArgs, type FlagSpec } from './args.js';
import type { IO } from './io.js';
import type { Command } from './main.js';
import { autoArgsFrom, autoCall, latin1, loadRoot, searchPathFrom, selectAttrPath } from './input.js';
import { Progress } from './progress.js';
import { createSession, type Session } from './session.js';

const FLAGS: Record<string, FlagSpec> = {
  '--expr': { arity: 0, aliases: ['-E'] },
  '--attr': { arity: 1, aliases: ['-A'] },
  '--arg': { arity: 2 },
  '--argstr': { arity: 2 },
  '--include': { arity: 1, aliases: ['-I'] },
  '--out-link': { arity: 1, aliases: ['-o'] },
  '--no-link': { arity: 0 },
  '--max-jobs': { arity: 1, aliases: ['-j'] },
  '--cores': { arity: 1 },
  '--store': { arity: 1 },
  '--check': { arity: 0 },
  '--keep-going': { arity: 0, aliases: ['-k'] },
  '--print-build-logs': { arity: 0, aliases: ['-L'] },
  '--show-trace': { arity: 0 },
  '--list-builders': { arity: 0 },
  '--format': { arity: 1 },
};

const USAGE = `usage: imgeval build [FILE | -E EXPR | DRVPATH[!OUTPUT]...] [-A ATTRPATH]... [--arg NAME EXPR]...
                     [--argstr NAME VALUE]... [-I [NAME=]PATH]... [-o LINK | --no-link] [-j N]
                     [--store DIR] [--check] [--keep-going] [-L]

Evaluates FILE (a .img or .nix file, or a directory holding default.img / default.nix) or EXPR,
builds the derivations it returns (already valid outputs are not rebuilt), makes 'result'
symlinks to them and prints their store paths, like nix-build.
  -A PATH           select an attribute path; may repeat
  --arg N E         auto-call a function result with N = the expression E (--argstr: a string)
  -I [NAME=]PATH    add a search path entry for <NAME/...>
  -o LINK           name of the result link (default 'result'; result-<output> for outputs
                    other than 'out', LINK-2, LINK-3... for further derivations)
  --no-link         make no result links
  -j N              build at most N derivations at once (default: the number of cores)
  --store DIR       the store's physical root (else $IMGEVAL_STORE, else the XDG data dir)
  --check           rebuild derivations whose outputs are valid and fail if the bytes differ
  --keep-going, -k  after a failure, still build everything that does not depend on it
  -L                print the builders' logs
  --format F        build each selected image as F: oci-dir (an OCI image layout directory),
                    oci-archive (a tar of it) or docker-archive (the image functions' own output);
                    the same as wrapping it in convertImage { image = …; format = F; }
  --list-builders   print the built-in builders (builtin:NAME) and what they do
Arguments that are .drv store paths (DRV or DRV!OUTPUT) are built without evaluation.
Build logs are kept under <store>/nix/var/log/imgeval/drvs/.
Exit status: 0 ok, 1 evaluation or build error, 2 bad usage.`;


interface Target extends DerivedPath {
  outputName: string;
  span?: Span;
}

function isDerivation(v: Value): v is Attrs {
  if (!(v instanceof Attrs)) return false;
  const t = v.m.get('type');
  if (t === undefined) return false;
  const tv = force(t);
  return (typeof tv === 'string' ? tv : tv instanceof NixString ? tv.s : undefined) === 'derivation';
}

function stringOf(x: Lazy, what: string): string {
  const v = force(x);
  if (typeof v === 'string') return v;
  if (v instanceof NixString) return v.s;
  throw new ImgError('E_TYPE', `${what} is not a string`);
}

/** nix-build's getDerivations: a derivation; the elements of a list; the derivations among a set's attributes. */
function collectDerivations(v: Value, span: Span | undefined, out: Target[], depth = 0): void {
  if (isDerivation(v)) {
    const drvPath = stringOf(v.m.get('drvPath') ?? '', `the 'drvPath' of a derivation`);
    const o = v.m.get('outputName');
    const outputName = o === undefined ? 'out' : stringOf(o, `the 'outputName' of a derivation`);
    out.push({ drvPath, outputs: [outputName], outputName, ...(span ? { span } : {}) });
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) collectDerivations(force(x), span, out, depth + 1);
    return;
  }
  if (v instanceof Attrs) {
    if (depth > 0) {
      const r = v.m.get('recurseForDerivations');
      if (r === undefined || force(r) !== true) return;
    }
    for (const n of v.names()) collectDerivations(force(v.m.get(n)!), v.posOf(n) ?? span, out, depth + 1);
    return;
  }
  if (depth === 0) throw new ImgError('E_TYPE', 'the value to build is not a derivation, a list or a set of derivations');
}

/** Link names as nix-build makes them: result, result-dev, result-2, result-2-dev, … */
function linkName(base: string, index: number, output: string): string {
  return `${base}${index > 0 ? `-${index + 1}` : ''}${output === 'out' ? '' : `-${output}`}`;
}

/** `/nix/store/…drv`, `<root>/nix/store/…drv` or either with `!output`; undefined when not a drv path. */
function drvArgument(store: LocalStore, arg: string): Target | undefined {
  const bang = arg.lastIndexOf('!');
  const path = bang > 0 ? arg.slice(0, bang) : arg;
  const output = bang > 0 ? arg.slice(bang + 1) : undefined;
  const sp = path.startsWith(STORE_DIR + '/') ? store.toStorePathOf(path) : store.toStorePathOf(resolve(path));
  if (!sp || !isDerivationPath(sp)) return undefined;
  if (sp !== path && store.toPhysical(sp) !== resolve(path)) return undefined;
  return { drvPath: sp, outputName: output ?? 'out', ...(output ? { outputs: [output] } : {}) };
}

/** `convertImage { image = v; format = F; }` for a derivation, element-wise for a list or a set. */
function withFormat(st: Session['state'], v: Value, format: string, cwd: string): Value {
  const convert = st.evalSource(new SourceFile('(--format)', 'convertImage', latin1(cwd)));
  const wrap = (x: Value): Value => {
    if (isDerivation(x)) return callValue(convert, [new Attrs(new Map<string, Lazy>([['image', x], ['format', format]]))], undefined);
    if (Array.isArray(x)) return x.map((e) => wrap(force(e)));
    if (x instanceof Attrs) return new Attrs(new Map([...x.names()].map((n) => [n, wrap(force(x.m.get(n)!))] as [string, Lazy])));
    return x;
  };
  return wrap(v);
}

export const command: Command = {
  summary: 'build derivations (evaluate, instantiate, realise), make result links, print store paths',
  usage: USAGE,
  async run(argv: string[], io: IO): Promise<number> {
    const p = parseArgs(argv, FLAGS);
    if (flagSet(p, '--list-builders')) {
      for (const b of BUILTINS.list()) io.out(`builtin:${b.name}\n  ${b.doc}\n`);
      return 0;
    }
    const isExpr = flagSet(p, '--expr');
    const jobsText = flagValue(p, '--max-jobs');
    const jobs = jobsText === undefined || jobsText === 'auto' ? availableParallelism() : Number(jobsText);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`'-j' needs a positive number, got '${jobsText}'`);
    const coresText = flagValue(p, '--cores');
    const cores = coresText === undefined || coresText === '0' ? availableParallelism() : Number(coresText);
    if (!Number.isInteger(cores) || cores < 1) throw new UsageError(`'--cores' needs a number, got '${coresText}'`);
    if (flagSet(p, '--no-link') && flagSet(p, '--out-link')) throw new UsageError(`--no-link and --out-link cannot be used together`);
    const cwd = process.cwd();
    const env = process.env;
    const searchPath = searchPathFrom(p, env);

    const session: Session = createSession({
      storeRoot: flagValue(p, '--store'),
      env,
      cwd,
      searchPath,
      ...(env.HOME !== undefined ? { home: latin1(env.HOME) } : {}),
      trace: (line) => io.err(`${line}\n`),
    });
    try {
      const store = session.store();
      const targets: Target[] = [];
      const drvArgs = !isExpr && p.positional.length > 0 ? p.positional.map((a) => drvArgument(store, a)) : [];
      if (drvArgs.length > 0 && drvArgs.every((t) => t !== undefined)) {
        if (flagSet(p, '--attr')) throw new UsageError(`-A cannot be used with .drv arguments`);
        targets.push(...(drvArgs as Target[]));
      } else {
        if (p.positional.length === 0 && !isExpr) throw new UsageError(`give a FILE, -E EXPR or .drv paths (see 'imgeval build --help')`);
        if (p.positional.length > 1) throw new UsageError(`expected one FILE or EXPR, got ${p.positional.length}`);
        const st = session.state;
        const input = p.positional[0] ?? '';
        const autoArgs = autoArgsFrom(p, st, latin1(cwd));
        const root = loadRoot(st, isExpr, input, latin1(cwd));
        const attrPaths = flagAll(p, '--attr').map(([x]) => latin1(x!));
        if (attrPaths.length === 0) attrPaths.push('');
        const format = flagValue(p, '--format');
        if (format !== undefined && !['oci-dir', 'oci-archive', 'docker-archive'].includes(format)) {
          throw new UsageError(`--format must be oci-dir, oci-archive or docker-archive, got '${format}'`);
        }
        for (const ap of attrPaths) {
          const sel = selectAttrPath(root, ap, autoArgs);
          let v = autoCall(sel.v, autoArgs);
          // --format oci-…: every selected derivation goes through the prelude's convertImage.
          if (format !== undefined && format !== 'docker-archive') v = withFormat(st, v, format, cwd);
          collectDerivations(v, sel.span, targets);
        }
      }
      if (targets.length === 0) return 0;

      const progress = new Progress({ write: (s) => io.err(s), tty: io.errIsTTY, printLogs: flagSet(p, '--print-build-logs') });
      const spans = new Map<string, Span>();
      for (const t of targets) if (t.span && !spans.has(t.drvPath)) spans.set(t.drvPath, t.span);
      const sessionSpans = (session as Session & { spanOf?: (drvPath: string) => Span | undefined }).spanOf;
      let results;
      try {
        results = await realise(store, targets, {
          jobs,
          cores,
          keepGoing: flagSet(p, '--keep-going'),
          check: flagSet(p, '--check'),
          builtins: BUILTINS,
          onEvent: progress.onEvent,
          // The user's -A selection first: the session's span may point into the prelude.
          spanOf: (d) => spans.get(d) ?? sessionSpans?.(d),
        });
      } finally {
        progress.finish();
      }
      const lines: string[] = [];
      const base = flagValue(p, '--out-link') ?? 'result';
      let index = 0;
      const seen = new Map<string, number>();
      targets.forEach((t, i) => {
        const path = results[i]!.outputs.get(t.outputName)!;
        lines.push(path);
        if (flagSet(p, '--no-link')) return;
        // Every derivation gets its own index; its outputs share it (nix-build's drvMap).
        let k = seen.get(t.drvPath);
        if (k === undefined) {
          k = index++;
          seen.set(t.drvPath, k);
        }
        store.addPermRoot(path, resolve(cwd, linkName(base, k, t.outputName)));
      });
      io.out(lines.map((l) => `${l}\n`).join(''));
      return 0;
    } finally {
      session.close();
    }
  },
};
