// build/scheduler: realisation of derivations. Reads the drv graph from the store (the `.drv`
// files), decides bottom-up what must be built (outputs already valid are skipped, and so is
// everything below them), and builds each derivation once, independent ones in parallel (`jobs`
// slots; built-in builders run in-process, process builders as child processes in the sandbox).
// Each build takes the locks of its outputs (so two imgeval processes on one store build it
// once: the second waits, then finds it valid), builds into a temporary directory inside the
// store, finishes the outputs (canonical metadata, narHash, references, fixed-output check; a
// built-in builder may hand over the hash and references of a single-file output it computed
// while writing it, taken except for fixed outputs and in check mode),
// moves them into place and registers them in one transaction. A crash at any point leaves only
// unregistered leftovers. Failure policy: by default the first failure stops new builds from
// starting (running ones finish and are registered); with keepGoing every build that does not
// depend on a failed one still runs. `check` rebuilds valid derivations into the temporary
// directory and compares (reproducibility). Reports progress through `onEvent`; never writes to
// stdout/stderr.

import { availableParallelism } from 'node:os';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';
import { fixedOutput, parseDerivationFile, type Derivation } from '../derivation/derivation.js';
import { CANONICAL_MTIME, deleteTree } from '../store/fs-tree.js';
import type { LocalStore, NewPathInfo } from '../store/local-store.js';
import { SELF_ID } from '../store/lock.js';
import { builtinName, type BuiltinRegistry } from './builder-registry.js';
import { DEFAULT_BUILTINS } from './builtins/index.js';
import { BuildLog, LOG_TAIL_LINES, logFileOf } from './build-log.js';
import { finishOutput, firstDifference, type HashedOutput } from './output.js';
import { runProcessBuilder } from './process-builder.js';

/** A derivation and the outputs wanted from it (all of them when `outputs` is undefined). */
export interface DerivedPath {
  drvPath: string;
  outputs?: readonly string[];
}

/** A realised target: its wanted outputs' store paths, by output name. */
export interface RealisedPath {
  drvPath: string;
  outputs: Map<string, string>;
}

export type BuildMode = 'build' | 'check';

export type BuildEvent =
  /** What will run: derivations to build and (with check) valid ones to rebuild and compare. */
  | { type: 'plan'; build: string[]; check: string[] }
  | { type: 'start'; drvPath: string; name: string; mode: BuildMode; builder: string; logFile: string }
  | { type: 'log'; drvPath: string; line: string }
  /** `builtHere` is false when another process built it while we waited for its locks. */
  | { type: 'done'; drvPath: string; name: string; mode: BuildMode; builtHere: boolean }
  | { type: 'failed'; drvPath: string; name: string; error: ImgError }
  /** Not built because a dependency failed or the run stopped after a failure. */
  | { type: 'skipped'; drvPath: string; name: string; reason: string };

export interface RealiseOptions {
  /** Builds run at once (default: the number of cores). */
  jobs?: number;
  /** NIX_BUILD_CORES given to builders (default: the number of cores). */
  cores?: number;
  keepGoing?: boolean;
  check?: boolean;
  builtins?: BuiltinRegistry;
  onEvent?: (e: BuildEvent) => void;
  /** Where the derivation was defined in the user's source, for errors. */
  spanOf?: (drvPath: string) => Span | undefined;
  signal?: AbortSignal;
  /** Environment the impureEnvVars of fixed-output derivations are taken from (default process.env). */
  hostEnv?: NodeJS.ProcessEnv;
}

interface Node {
  drvPath: string;
  drv: Derivation;
  name: string;
  /** Output name → path (every output of the derivation). */
  outputPaths: Map<string, string>;
  wanted: Set<string>;
  /** Input derivations and the outputs used from them. */
  inputs: Map<string, string[]>;
  mode?: BuildMode;
  deps: Node[];
  promise?: Promise<boolean>;
}

let buildCounter = 0;

/** A counting semaphore for the build slots. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = Math.max(1, n);
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function readDrv(store: LocalStore, drvPath: string): Derivation {
  let bytes: Buffer;
  try {
    bytes = readFileSync(store.toPhysical(drvPath));
  } catch {
    throw new ImgError('E_BUILD', `derivation '${drvPath}' is not in the store at '${store.root}'`);
  }
  if (!store.isValidPath(drvPath)) throw new ImgError('E_BUILD', `derivation '${drvPath}' is not valid in the store at '${store.root}'`);
  return parseDerivationFile(drvPath, bytes);
}

function outputPathsOf(drvPath: string, drv: Derivation): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, o] of drv.outputs) {
    if (o.path === '') throw new ImgError('E_BUILD', `derivation '${drvPath}' has an output '${name}' without a path (content-addressed derivations are not supported)`);
    m.set(name, o.path);
  }
  return m;
}

/**
 * Builds what is needed so that the targets' wanted outputs are valid; returns their paths.
 * Throws the first failure's ImgError (with the others as notes) when something failed.
 */
export async function realise(store: LocalStore, targets: readonly DerivedPath[], opts: RealiseOptions = {}): Promise<RealisedPath[]> {
  const emit = opts.onEvent ?? (() => {});
  const cores = opts.cores ?? availableParallelism();
  const slots = new Slots(opts.jobs ?? availableParallelism());
  const builtins = opts.builtins ?? DEFAULT_BUILTINS;
  const abort = new AbortController();
  opts.signal?.addEventListener('abort', () => abort.abort(opts.signal!.reason), { once: true });

  // 1. What runs, found from the top: a derivation builds when one of its wanted outputs is
  //    invalid (with check, a valid one is checked); then the outputs it uses from its inputs
  //    are wanted. Wanted sets only grow, so a derivation is revisited when they do; the .drv
  //    files below valid outputs are never read (they may even be gone).
  const nodes = new Map<string, Node>();
  const load = (drvPath: string): Node => {
    let n = nodes.get(drvPath);
    if (n) return n;
    const drv = readDrv(store, drvPath);
    n = { drvPath, drv, name: drv.name, outputPaths: outputPathsOf(drvPath, drv), wanted: new Set(), inputs: drv.inputDrvs, deps: [] };
    nodes.set(drvPath, n);
    return n;
  };
  const work: Node[] = [];
  for (const t of targets) {
    const n = load(t.drvPath);
    for (const o of t.outputs ?? n.outputPaths.keys()) {
      if (!n.outputPaths.has(o)) throw new ImgError('E_BUILD', `derivation '${t.drvPath}' does not have an output named '${o}'`);
      n.wanted.add(o);
    }
    work.push(n);
  }
  const expanded = new Map<Node, number>(); // node → size of `wanted` when its inputs were last marked
  while (work.length) {
    const n = work.pop()!;
    if (expanded.get(n) === n.wanted.size) continue;
    const missing = [...n.wanted].some((o) => !store.isValidPath(n.outputPaths.get(o)!));
    if (missing) n.mode = 'build';
    else if (opts.check) n.mode ??= 'check';
    else continue;
    expanded.set(n, n.wanted.size);
    for (const [p, outs] of [...n.inputs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const dep = load(p);
      const before = dep.wanted.size;
      for (const o of outs) {
        if (!dep.outputPaths.has(o)) throw new ImgError('E_BUILD', `derivation '${p}' (an input of '${n.drvPath}') does not have an output named '${o}'`);
        dep.wanted.add(o);
      }
      if (dep.wanted.size !== before || !expanded.has(dep)) work.push(dep);
    }
  }
  // Dependencies among what runs, and a bottom-up order (for the plan).
  const active: Node[] = [];
  {
    const state = new Map<Node, 1 | 2>();
    const visit = (root: Node): void => {
      const stack: { node: Node; keys: string[]; i: number }[] = [{ node: root, keys: [...root.inputs.keys()].sort(), i: 0 }];
      state.set(root, 1);
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        if (top.i < top.keys.length) {
          const dep = nodes.get(top.keys[top.i++]!);
          if (!dep?.mode) continue;
          if (!top.node.deps.includes(dep)) top.node.deps.push(dep);
          const st = state.get(dep);
          if (st === 1) throw new ImgError('E_BUILD', `cycle in the derivation graph at '${dep.drvPath}'`);
          if (st === undefined) {
            state.set(dep, 1);
            stack.push({ node: dep, keys: [...dep.inputs.keys()].sort(), i: 0 });
          }
          continue;
        }
        stack.pop();
        state.set(top.node, 2);
        active.push(top.node);
      }
    };
    for (const t of targets) {
      const n = nodes.get(t.drvPath)!;
      if (n.mode && !state.has(n)) visit(n);
    }
  }
  emit({ type: 'plan', build: active.filter((n) => n.mode === 'build').map((n) => n.drvPath), check: active.filter((n) => n.mode === 'check').map((n) => n.drvPath) });

  // 3. Run.
  const failures: { node: Node; error: ImgError }[] = [];
  const refs = new Map<string, readonly string[]>();
  const cleanups: Promise<void>[] = [];
  let internal: unknown;
  let stopping = false;
  const ensure = (n: Node): Promise<boolean> => {
    if (n.promise) return n.promise;
    n.promise = (async () => {
      const ok = await Promise.all(n.deps.map(ensure));
      const bad = n.deps.find((_, i) => !ok[i]);
      if (bad) {
        emit({ type: 'skipped', drvPath: n.drvPath, name: n.name, reason: `dependency '${bad.drvPath}' failed` });
        return false;
      }
      if (stopping || abort.signal.aborted) {
        emit({ type: 'skipped', drvPath: n.drvPath, name: n.name, reason: 'stopped after a failure' });
        return false;
      }
      try {
        return await buildNode(store, n, { slots, builtins, emit, cores, signal: abort.signal, hostEnv: opts.hostEnv ?? process.env, refs, cleanups, shouldStart: () => !stopping && !abort.signal.aborted });
      } catch (e) {
        if (!(e instanceof ImgError)) {
          internal ??= e;
          stopping = true;
          return false;
        }
        const span = opts.spanOf?.(n.drvPath);
        if (span) e.at(span);
        failures.push({ node: n, error: e });
        emit({ type: 'failed', drvPath: n.drvPath, name: n.name, error: e });
        if (!opts.keepGoing) stopping = true;
        return false;
      }
    })();
    return n.promise;
  };
  try {
    await Promise.all(active.map(ensure));
  } finally {
    await Promise.all(cleanups);
  }
  if (internal) throw internal;
  if (failures.length) {
    const first = failures[0]!.error;
    if (failures.length > 1) {
      first.notes.push({ message: `${failures.length} derivations failed: ${failures.map((f) => `'${f.node.drvPath}'`).join(', ')}` });
    }
    throw first;
  }
  if (abort.signal.aborted) throw new ImgError('E_BUILD', 'the build was cancelled');
  return targets.map((t) => {
    const n = nodes.get(t.drvPath)!;
    const outs = new Map<string, string>();
    for (const o of [...(t.outputs ?? n.outputPaths.keys())].sort()) outs.set(o, n.outputPaths.get(o)!);
    return { drvPath: t.drvPath, outputs: outs };
  });
}

interface BuildContext {
  slots: Slots;
  builtins: BuiltinRegistry;
  emit: (e: BuildEvent) => void;
  cores: number;
  signal: AbortSignal;
  hostEnv: NodeJS.ProcessEnv;
  /** References of valid paths seen in this run (path → references), shared by its builds. */
  refs: Map<string, readonly string[]>;
  /** Removals of builds' temporary directories still running (awaited before realise returns). */
  cleanups: Promise<void>[];
  /** False once the run stops: a build that waited for a lock or a slot then gives up. */
  shouldStart: () => boolean;
}

/** Builds (or checks) one derivation; false when it was skipped because the run is stopping. */
async function buildNode(store: LocalStore, n: Node, c: BuildContext): Promise<boolean> {
  const mode = n.mode!;
  const outputs = [...n.outputPaths.values()];
  store.addTempRoots(outputs);
  if (mode === 'check') {
    await c.slots.take();
    try {
      if (!c.shouldStart()) return skip(n, c);
      await runBuild(store, n, c, 'check');
    } finally {
      c.slots.give();
    }
    return true;
  }
  // Locks before a slot: waiting for another process does not hold a slot.
  const locks = await store.lockPathsAsync(outputs);
  try {
    if ([...n.wanted].every((o) => store.isValidPath(n.outputPaths.get(o)!))) {
      c.emit({ type: 'done', drvPath: n.drvPath, name: n.name, mode, builtHere: false });
      return true;
    }
    await c.slots.take();
    try {
      if (!c.shouldStart()) return skip(n, c);
      await runBuild(store, n, c, 'build');
    } finally {
      c.slots.give();
    }
    return true;
  } finally {
    locks.release();
  }
}

function skip(n: Node, c: BuildContext): false {
  c.emit({ type: 'skipped', drvPath: n.drvPath, name: n.name, reason: 'stopped after a failure' });
  return false;
}

/** The store paths a build may see and refer to: the closure of its input sources and used input outputs. */
function inputClosure(store: LocalStore, n: Node, refs: Map<string, readonly string[]>): string[] {
  const start = new Set<string>(n.drv.inputSrcs);
  for (const [p, outs] of n.inputs) {
    const dep = readDrv(store, p);
    for (const o of outs) {
      const q = dep.outputs.get(o)?.path;
      if (!q) throw new ImgError('E_BUILD', `derivation '${p}' does not have an output named '${o}'`);
      start.add(q);
    }
  }
  for (const p of start) {
    if (!store.isValidPath(p)) throw new ImgError('E_BUILD', `input '${p}' of '${n.drvPath}' is not valid in the store`);
  }
  // computeFSClosure, with the references of valid paths (which do not change) remembered for
  // the run: the builds of one image share most of their input closures. Paths not known yet
  // are asked for in rounds: a few one by one, many in one closure query.
  const seen = new Set<string>();
  let stack = [...start];
  while (stack.length) {
    const unknown: string[] = [];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      const rs = refs.get(p);
      if (rs === undefined) {
        unknown.push(p);
        continue;
      }
      seen.add(p);
      for (const q of rs) if (!seen.has(q)) stack.push(q);
    }
    if (unknown.length > 4) {
      for (const [p, i] of store.queryClosureGraph(unknown)) if (!refs.has(p)) refs.set(p, i.references);
    } else for (const p of unknown) if (!refs.has(p)) refs.set(p, store.queryReferences(p));
    stack = unknown;
  }
  return [...seen].sort();
}

/** Runs the builder into a temporary directory; in build mode installs and registers the outputs. */
async function runBuild(store: LocalStore, n: Node, c: BuildContext, mode: BuildMode): Promise<void> {
  const closure = inputClosure(store, n, c.refs);
  store.addTempRoots(closure);
  const tmp = join(store.realStoreDir, `.imgeval-tmp-${SELF_ID.replace(' ', '_')}-build-${buildCounter++}`);
  mkdirSync(tmp, { mode: 0o700 });
  const storeView = join(tmp, 'store');
  const buildRoot = join(tmp, 'top');
  const buildTopName = `nix-build-${n.name}-0`;
  const scratch = join(buildRoot, buildTopName);
  mkdirSync(storeView, { mode: 0o755 });
  // The scratch directory is made when first asked for: most built-in builders never use it
  // (directory operations wait on the file system's journal).
  let scratchMade = false;
  const scratchDir = (): string => {
    if (!scratchMade) mkdirSync(scratch, { recursive: true, mode: 0o700 });
    scratchMade = true;
    return scratch;
  };
  const temps = new Map<string, string>();
  for (const [o, p] of n.outputPaths) temps.set(o, join(storeView, basename(p)));
  const candidates = [...closure, ...n.outputPaths.values()];
  const hashed = new Map<string, HashedOutput>();
  const logFile = logFileOf(store.root, n.drvPath);
  const log = new BuildLog(logFile, (line) => c.emit({ type: 'log', drvPath: n.drvPath, line }));
  c.emit({ type: 'start', drvPath: n.drvPath, name: n.name, mode, builder: n.drv.builder, logFile });
  try {
    try {
      const bname = builtinName(n.drv.builder);
      if (bname !== undefined) {
        const b = c.builtins.get(bname);
        if (!b) {
          throw new ImgError('E_BUILD', `unsupported builder '${n.drv.builder}' of '${n.drvPath}'`, undefined, [
            { message: `the built-in builders are: ${c.builtins.list().map((x) => `builtin:${x.name}`).join(', ')}` },
          ]);
        }
        await b.run({
          drvPath: n.drvPath,
          drv: n.drv,
          env: n.drv.env,
          outputs: n.outputPaths,
          outputTemps: temps,
          referenceCandidates: candidates,
          outputHashed: (o, info) => {
            if (!n.outputPaths.has(o)) throw new Error(`internal error: builtin:${bname} hashed an output '${o}' that '${n.drvPath}' does not have`);
            hashed.set(o, info);
          },
          store,
          get tmpDir() {
            return scratchDir();
          },
          cores: c.cores,
          log: (line) => log.line(line),
          signal: c.signal,
        });
      } else {
        checkPlatform(n);
        writeReferencesGraphs(store, n, closure, scratchDir());
        const inputs = closure.map((p) => ({ physical: store.toPhysical(p), base: basename(p) }));
        for (const i of inputs) makeMountPoint(i.physical, join(storeView, i.base));
        await runProcessBuilder({
          drvPath: n.drvPath,
          drv: n.drv,
          storeView,
          inputs: inputs.filter((i) => !lstatSync(i.physical).isSymbolicLink()),
          buildRoot,
          buildTopName,
          scriptFile: join(tmp, 'sandbox.sh'),
          cores: c.cores,
          log,
          signal: c.signal,
          hostEnv: c.hostEnv,
        });
      }
    } catch (e) {
      if (e instanceof ImgError && e.code === 'E_BUILD') addLogTail(e, log, logFile);
      throw e;
    }
    const f = fixedOutput(n.drv);
    const infos: { info: NewPathInfo; temp: string }[] = [];
    for (const [o, p] of n.outputPaths) {
      const fixed = f ? { ...f, userHash: n.drv.env.get('outputHash') } : undefined;
      // --check hashes what was built itself, whatever the builder said.
      const h = mode === 'check' ? undefined : hashed.get(o);
      if (h && !fixed) log.line(`output '${o}': NAR hash and references computed by the builder while writing it`);
      infos.push({ info: finishOutput(temps.get(o)!, p, { drvPath: n.drvPath, candidates, ...(fixed ? { fixed } : {}), ...(h ? { hashed: h } : {}) }), temp: temps.get(o)! });
    }
    if (mode === 'check') {
      for (const { info, temp } of infos) {
        const old = store.queryPathInfo(info.path);
        if (!old) continue;
        if (old.narHash !== info.narHash) {
          const d = firstDifference(temp, store.toPhysical(info.path));
          throw new ImgError('E_BUILD', `derivation '${n.drvPath}' may not be deterministic: output '${info.path}' differs`, undefined, [
            { message: d ? `first difference at '${info.path}${d.path === '/' ? '' : d.path}': ${d.what}` : 'the NAR hashes differ' },
            { message: `registered ${old.narHash}, rebuilt ${info.narHash}` },
          ]);
        }
      }
      log.line(`check: ${infos.length} output(s) identical`);
    } else {
      // Move into place (the locks are held), then register all outputs in one transaction.
      const fresh: NewPathInfo[] = [];
      for (const { info, temp } of infos) {
        if (store.isValidPath(info.path)) continue;
        store.clearInvalidPath(info.path);
        moveDirOrFile(temp, store.toPhysical(info.path));
        fresh.push(info);
      }
      store.registerValidPaths(fresh);
    }
    c.emit({ type: 'done', drvPath: n.drvPath, name: n.name, mode, builtHere: true });
  } finally {
    log.close();
    // Removed beside the next builds (unlink and rmdir wait on the file system's journal, ~1 ms
    // each on a busy disk); realise waits for every removal before it returns.
    c.cleanups.push(removeTree(tmp));
  }
}

/** Removes a build's temporary directory in the background (deleteTree when that fails, e.g. read-only dirs). */
async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    try {
      deleteTree(dir);
    } catch {
      // a leftover temporary directory is removed when the store is next opened (dead owner)
    }
  }
}

/** The systems process builders run on here (Nix's thisSystem and its default extraPlatforms). */
export function localSystems(): string[] {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch === 'ia32' ? 'i686' : process.arch;
  const os = process.platform === 'darwin' ? 'darwin' : process.platform;
  const own = `${arch}-${os}`;
  return own === 'x86_64-linux' ? [own, 'i686-linux'] : [own];
}

/** A process builder must be for this machine (built-in builders run anywhere, as in Nix). */
function checkPlatform(n: Node): void {
  const systems = localSystems();
  if (!systems.includes(n.drv.platform)) {
    throw new ImgError('E_BUILD', `a '${n.drv.platform}' is required to build '${n.drvPath}', but I am a '${systems[0]}'`, undefined, [
      { message: `set 'system = builtins.currentSystem;' in the derivation (or use a built-in builder)` },
    ]);
  }
}

/**
 * `exportReferencesGraph = [ "name" path … ]` (non-structured): for each pair, a file `name` in
 * the build directory listing the closure of `path` in Nix's registration format
 * (makeValidityRegistration without hashes or derivers). The path must be in the input closure.
 */
function writeReferencesGraphs(store: LocalStore, n: Node, closure: readonly string[], buildTop: string): void {
  const spec = n.drv.env.get('exportReferencesGraph');
  if (spec === undefined) return;
  const words = spec.split(/[ \t\n]+/).filter((w) => w !== '');
  if (words.length % 2) throw new ImgError('E_BUILD', `'exportReferencesGraph' of '${n.drvPath}' must be a list of pairs (name, store path)`);
  const inClosure = new Set(closure);
  for (let i = 0; i < words.length; i += 2) {
    const name = words[i]!;
    if (!/^[A-Za-z0-9+._?=-]+$/.test(name) || name === '.' || name === '..') {
      throw new ImgError('E_BUILD', `invalid file name '${name}' in 'exportReferencesGraph' of '${n.drvPath}'`);
    }
    const p = store.toStorePathOf(words[i + 1]!);
    if (!p || !inClosure.has(p)) throw new ImgError('E_BUILD', `'exportReferencesGraph' of '${n.drvPath}' refers to '${words[i + 1]}', which is not in its input closure`);
    let text = '';
    for (const q of store.computeFSClosure([p])) {
      const refs = store.queryReferences(q);
      text += `${q}\n\n${refs.length}\n${refs.map((r) => `${r}\n`).join('')}`;
    }
    writeFileSync(join(buildTop, Buffer.from(name, 'latin1').toString('utf8')), Buffer.from(text, 'latin1'));
  }
}

/**
 * Renames a finished output into place. A read-only directory cannot be moved to another parent
 * by a non-root user (its `..` entry changes), so it is made writable for the move and then
 * given its canonical mode and mtime back.
 */
function moveDirOrFile(from: string, to: string): void {
  const st = lstatSync(from);
  if (!st.isDirectory()) {
    renameSync(from, to);
    return;
  }
  chmodSync(from, 0o755);
  renameSync(from, to);
  chmodSync(to, 0o555);
  utimesSync(to, CANONICAL_MTIME, CANONICAL_MTIME);
}

/** The empty file, directory or copied symlink an input is bind-mounted on. */
function makeMountPoint(physical: string, at: string): void {
  const st = lstatSync(physical);
  if (st.isDirectory()) mkdirSync(at);
  else if (st.isSymbolicLink()) symlinkSync(readlinkSync(physical, { encoding: 'buffer' }), at);
  else writeFileSync(at, '');
}

function addLogTail(e: ImgError, log: BuildLog, logFile: string): void {
  const lines = log.lastLines();
  if (lines.length) {
    const n = Math.min(lines.length, LOG_TAIL_LINES);
    e.notes.push({ message: `last ${n === 1 ? 'log line' : `${n} log lines`}:\n${lines.map((l) => `  > ${l}`).join('\n')}` });
  }
  e.notes.push({ message: `full log: ${logFile}` });
}
