// A child process for the crash and concurrency tests (run with `node --import tsx`):
//   add ROOT SRC            prints "start", adds SRC, prints "done <store path> <ms>"
//   hold ROOT PATH MS       takes PATH's lock, prints "locked", holds it MS ms, releases, exits
//   gc ROOT                 prints "start", collects garbage, prints "done <n deleted>"
import { LocalStore } from '../../src/store/local-store.js';
import { sleepSync } from '../../src/store/lock.js';

const [mode, root, arg, ms] = process.argv.slice(2);
const store = LocalStore.open({ root: root! });
if (mode === 'add') {
  process.stdout.write('start\n');
  const t0 = Date.now();
  const p = store.addToStore(arg!);
  process.stdout.write(`done ${p} ${Date.now() - t0}\n`);
} else if (mode === 'hold') {
  const locks = store.lockPaths([arg!]);
  process.stdout.write('locked\n');
  sleepSync(Number(ms));
  locks.release();
} else if (mode === 'gc') {
  process.stdout.write('start\n');
  const r = store.collectGarbage();
  process.stdout.write(`done ${r.deleted.length}\n`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
store.close();
