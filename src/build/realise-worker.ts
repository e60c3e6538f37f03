// build/realise-worker: the worker thread behind realiseSync: loads extra built-in builders
// (modules exporting `builders`), opens the store, runs realise(),
// posts events and the outcome through the port, then raises the shared `done` flag (always,
// even on an internal error, so the blocked caller wakes up). Never writes to stdout/stderr.

import { workerData, type MessagePort } from 'node:worker_threads';
import { LocalStore } from '../store/local-store.js';
import type { BuiltinBuilder } from './builder-registry.js';
import { DEFAULT_BUILTINS } from './builtins/index.js';
import { toWireError, type WireEvent, type WireMessage } from './realise-sync.js';
import { realise, type DerivedPath, type RealiseOptions } from './scheduler.js';

const data = workerData as { done: Int32Array; port: MessagePort; storeRoot: string; builtinModules: string[]; targets: DerivedPath[]; options: RealiseOptions };
const post = (m: WireMessage): void => data.port.postMessage(m);

try {
  let builtins = DEFAULT_BUILTINS;
  for (const url of data.builtinModules) {
    const m = (await import(url)) as { builders?: BuiltinBuilder[] };
    if (!Array.isArray(m.builders)) throw new Error(`internal error: module '${url}' exports no 'builders' list`);
    builtins = builtins.with(m.builders);
  }
  const store = LocalStore.open({ root: data.storeRoot });
  try {
    const result = await realise(store, data.targets, {
      ...data.options,
      builtins,
      onEvent: (e) => post({ event: (e.type === 'failed' ? { ...e, error: toWireError(e.error) } : e) as WireEvent }),
    });
    post({ result: result.map((r) => ({ drvPath: r.drvPath, outputs: [...r.outputs] })) });
  } finally {
    store.close();
  }
} catch (e) {
  post({ error: toWireError(e) });
} finally {
  Atomics.store(data.done, 0, 1);
  Atomics.notify(data.done, 0);
}
