// bench/eval: times every expression of ../shared/bench/eval/ with imgeval (the CLI, a fresh
// process per run, as a user runs it: `bin/imgeval.js eval FILE` executed directly, so that its
// shebang's node flags apply, as through npx's bin shim) and with
// `nix-instantiate --eval --strict` (NIX_REMOTE=dummy://) in the same run, checks both outputs
// against expected/<name>.out, and prints the median wall and CPU (user+sys of the child, read
// from /usr/bin/time when present: steadier than wall on a loaded machine) times, the wall and
// CPU ratios imgeval/nix for each expression and their geometric means (goal: ≤ 1.0). Also the
// start-up time of `eval -E 1`.
// 06-deep-recursion needs a deep native stack in Nix: it is run under `ulimit -s unlimited`, as
// run-nix.sh does. RUNS (default 3) timed runs per tool after one warm-up; ONLY filters names.
// Needs dist/ (npm run build).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = resolve(ROOT, '..', 'shared', 'bench', 'eval');
const RUNS = Number(process.env.RUNS ?? 3);
const ONLY = process.env.ONLY ?? '';
const BIN = join(ROOT, 'bin', 'imgeval.js');

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.error('bench/eval: dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const haveNix = spawnSync('sh', ['-c', 'command -v nix-instantiate'], { stdio: 'ignore' }).status === 0;

interface Timing {
  median: number;
  /** Median CPU time (user + sys), NaN without /usr/bin/time. */
  cpu: number;
  ok: boolean;
  note: string;
}

const TIME = '/usr/bin/time';
const haveTime = existsSync(TIME);
const TIME_OUT = join(tmpdir(), `imgeval-bench-eval-${process.pid}.time`);

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(cmd: string, args: string[], expected: string | undefined, shell = false): Timing {
  const walls: number[] = [];
  const cpus: number[] = [];
  let ok = true;
  let note = '';
  const env = { ...process.env, NIX_REMOTE: 'dummy://' };
  let argv = shell ? ['sh', '-c', `ulimit -s unlimited 2>/dev/null; exec "$0" "$@"`, cmd, ...args] : [cmd, ...args];
  if (haveTime) argv = [TIME, '-f', '%U %S', '-o', TIME_OUT, ...argv];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { env, maxBuffer: 1 << 28 });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i > 0) {
      walls.push(wall);
      if (haveTime) {
        const [u, sy] = readFileSync(TIME_OUT, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        cpus.push(u! + sy!);
      }
    }
    if (r.status !== 0) {
      ok = false;
      note = `exit ${r.status}: ${r.stderr.toString().split('\n')[0]!.slice(0, 80)}`;
    } else if (expected !== undefined && r.stdout.toString('latin1') !== expected) {
      ok = false;
      note = 'output differs from expected';
    }
  }
  return { median: median(walls), cpu: median(cpus), ok, note };
}

function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, r) => a + Math.log(r), 0) / xs.length);
}

const names = readdirSync(DIR)
  .filter((f) => f.endsWith('.nix') && f.includes(ONLY))
  .sort();
console.log(`bench/eval: ${names.length} expressions from ${DIR}, ${RUNS} timed runs each (+1 warm-up), medians; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(
  `${'expression'.padEnd(24)} ${'imgeval s'.padStart(9)} ${'nix s'.padStart(7)} ${'ratio'.padStart(6)}   ${'img cpu'.padStart(7)} ${'nix cpu'.padStart(7)} ${'ratio'.padStart(6)}  status`,
);
const ratios: number[] = [];
const cpuRatios: number[] = [];
const f3 = (x: number | undefined, w: number) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(3)).padStart(w);
const f2 = (x: number | undefined, w: number) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2)).padStart(w);
for (const f of names) {
  const name = f.replace(/\.nix$/, '');
  const expFile = join(DIR, 'expected', `${name}.out`);
  const expected = existsSync(expFile) ? readFileSync(expFile).toString('latin1') : undefined;
  const mine = time(BIN, ['eval', '--strict', join(DIR, f)], expected);
  const theirs = haveNix ? time('nix-instantiate', ['--eval', '--strict', join(DIR, f)], expected, name === '06-deep-recursion') : undefined;
  const both = theirs !== undefined && theirs.ok && mine.ok;
  const ratio = both ? mine.median / theirs.median : undefined;
  const cpuRatio = both && !Number.isNaN(mine.cpu) && theirs.cpu > 0 ? mine.cpu / theirs.cpu : undefined;
  if (ratio !== undefined) ratios.push(ratio);
  if (cpuRatio !== undefined) cpuRatios.push(cpuRatio);
  const status = [mine.ok ? 'imgeval ok' : `imgeval FAIL (${mine.note})`, theirs ? (theirs.ok ? 'nix ok' : `nix FAIL (${theirs.note})`) : 'nix missing'].join(', ');
  console.log(
    `${name.padEnd(24)} ${f3(mine.median, 9)} ${f3(theirs?.median, 7)} ${f2(ratio, 6)}   ${f3(mine.cpu, 7)} ${f3(theirs?.cpu, 7)} ${f2(cpuRatio, 6)}  ${status}`,
  );
}
if (ratios.length) {
  console.log(`geometric mean of imgeval/nix ratios: wall ${geomean(ratios).toFixed(2)}, CPU ${cpuRatios.length ? geomean(cpuRatios).toFixed(2) : '-'} (${ratios.length} expressions; goal ≤ 1.0)`);
}
const start = time(BIN, ['eval', '-E', '1'], '1\n');
const node = time(process.execPath, ['-e', '0'], undefined);
const nixStart = haveNix ? time('nix-instantiate', ['--eval', '--strict', '-E', '1'], '1\n') : undefined;
console.log(
  `start-up: imgeval eval -E 1 ${start.median.toFixed(3)} s wall, ${f3(start.cpu, 0)} s CPU (bare node -e 0: ${node.median.toFixed(3)} s, ${f3(node.cpu, 0)} s CPU${nixStart ? `; nix-instantiate: ${nixStart.median.toFixed(3)} s, ${f3(nixStart.cpu, 0)} s CPU` : ''})`,
);
rmSync(TIME_OUT, { force: true });
