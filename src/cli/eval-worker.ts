// cli/eval-worker: the worker thread (with a large stack) in which `imgeval eval` re-runs an
// evaluation that overflowed the main thread's stack. Output goes back to the main thread as
// messages; a stack overflow here is final and is reported as an error.

import { parentPort, workerData } from 'node:worker_threads';
import { reportError } from './main.js';
import { reportStackOverflow, runEval, type EvalContext } from './cmd-eval.js';
import type { IO } from './io.js';

const { argv, ctx } = workerData as { argv: string[]; ctx: EvalContext };
const io: IO = {
  out: (s) => parentPort!.postMessage({ out: s }),
  err: (s) => parentPort!.postMessage({ err: s }),
  outIsTTY: false,
  errIsTTY: false,
};
let code: number;
try {
  const r = runEval(argv, io, ctx);
  code = r.stackOverflow ? reportStackOverflow(r, io) : r.code;
} catch (e) {
  code = reportError(e, io);
}
parentPort!.postMessage({ code });
