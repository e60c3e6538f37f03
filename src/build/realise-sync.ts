// build/realise-sync: realisation for a synchronous caller — import from derivation, where the
// evaluator (which is synchronous) needs a derivation's outputs before it can go on. Runs the
// async scheduler (realise) in a worker thread with its own store handle and blocks the calling
// thread until it is done, passing the scheduler's events to `onEvent` as they arrive
// (receiveMessageOnPort while waiting). Never writes to stdout/stderr.
// Known limit: the worker shares the process id, so its temp-roots file is the caller's; when it
// finishes it removes that file (a concurrent `store gc` could then miss the caller's temp roots).

import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { ImgError, type ErrorNote } from '../base/error.js';
import type { BuildEvent, DerivedPath, RealiseOptions, RealisedPath } from './scheduler.js';

/** What crosses the thread boundary (ImgErrors as plain data). */
export type WireError = { code: string; message: string; notes: string[]; internal?: boolean };
export type WireEvent = Exclude<BuildEvent, { type: 'failed' }> | { type: 'failed'; drvPath: string; name: string; error: WireError };
export type WireMessage = { event: WireEvent } | { result: { drvPath: string; outputs: [string, string][] }[] } | { error: WireError };

export interface RealiseSyncOptions extends Pick<RealiseOptions, 'jobs' | 'cores' | 'keepGoing' | 'check'> {
  /** The store's physical root (the worker opens its own handle on it). */
  storeRoot: string;
  /**
   * Modules (file URLs) whose export `builders: BuiltinBuilder[]` is added to DEFAULT_BUILTINS in
   * the worker (functions cannot cross threads; the image builders come in this way).
   */
  builtinModules?: readonly string[];
  /** Receives the scheduler's events (a failure's error is rebuilt as an ImgError). */
  onEvent?: (e: BuildEvent) => void;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof ImgError) return { code: e.code, message: e.message, notes: e.notes.map((n) => n.message) };
  return { code: 'E_INTERNAL', message: e instanceof Error ? (e.stack ?? e.message) : String(e), notes: [], internal: true };
}

export function fromWireError(w: WireError): Error {
  if (w.internal) return new Error(w.message);
  const notes: ErrorNote[] = w.notes.map((message) => ({ message }));
  return new ImgError(w.code, w.message, undefined, notes);
}

/**
 * The worker's bootstrap (eval'd CommonJS): imports realise-worker (.js when compiled; from
 * TypeScript sources, as in tests, it registers tsx first: a worker does not inherit the parent's
 * `--import tsx` hooks). A failure to load still raises the `done` flag with the error, so the
 * blocked caller never waits forever.
 */
function workerBootstrap(): string {
  const dev = import.meta.url.endsWith('.ts');
  const entry = new URL(`./realise-worker${dev ? '.ts' : '.js'}`, import.meta.url).href;
  const pre = dev ? `(await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register();` : '';
  return `const { workerData } = require('node:worker_threads');
(async () => { ${pre} await import(${JSON.stringify(entry)}); })().catch((e) => {
  workerData.port.postMessage({ error: { code: 'E_INTERNAL', message: String((e && e.stack) || e), notes: [], internal: true } });
  Atomics.store(workerData.done, 0, 1);
  Atomics.notify(workerData.done, 0);
});`;
}

/** realise(), blocking the calling thread (built-in builders: DEFAULT_BUILTINS + `builtinModules`). */
export function realiseSync(targets: readonly DerivedPath[], opts: RealiseSyncOptions): RealisedPath[] {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(workerBootstrap(), {
    eval: true,
    workerData: {
      done,
      port: port2,
      storeRoot: opts.storeRoot,
      builtinModules: [...(opts.builtinModules ?? [])],
      targets: targets.map((t) => ({ drvPath: t.drvPath, ...(t.outputs ? { outputs: [...t.outputs] } : {}) })),
      options: { jobs: opts.jobs, cores: opts.cores, keepGoing: opts.keepGoing, check: opts.check },
    },
    transferList: [port2],
    stdout: false,
    stderr: false,
  });
  let outcome: WireMessage | undefined;
  const handle = (m: WireMessage): void => {
    if ('event' in m) {
      const e = m.event;
      opts.onEvent?.(e.type === 'failed' ? { ...e, error: fromWireError(e.error) as ImgError } : e);
    } else outcome = m;
  };
  try {
    for (;;) {
      Atomics.wait(done, 0, 0, 50);
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) handle(m.message as WireMessage);
      if (Atomics.load(done, 0) !== 0) {
        for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) handle(m.message as WireMessage);
        break;
      }
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
  if (!outcome) throw new Error('internal error: the realisation worker ended without an answer');
  if ('error' in outcome) throw fromWireError(outcome.error);
  if (!('result' in outcome)) throw new Error('internal error: unexpected message from the realisation worker');
  return outcome.result.map((r) => ({ drvPath: r.drvPath, outputs: new Map(r.outputs) }));
}
