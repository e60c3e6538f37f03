// bench/eval: times every expression of ../shared/bench/eval/ with imgeval (the CLI, a fresh
// process per run, as a user runs it: `node bin/imgeval.js eval FILE`) and with
// `nix-instantiate --eval --strict` (NIX_REMOTE=dummy://) in the same run, checks both outputs
// against expected/<name>.out, and prints the median wall times, the ratio imgeval/nix for each
// expression and their geometric mean (goal: ≤ 1.0). Also the start-up time of `eval -E 1`.
// 06-deep-recursion needs a deep native stack in Nix: it is run under `ulimit -s unlimited`, as
// run-nix.sh does. RUNS (default 3) timed runs per tool after one warm-up; ONLY filters names.
// Needs dist/ (npm run build).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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
  ok: boolean;
  note: string;
}

function time(cmd: string, args: string[], expected: string | undefined, shell = false): Timing {
  const walls: number[] = [];
  let ok = true;
  let note = '';
  for (let i = 0; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = shell
      ? spawnSync('sh', ['-c', `ulimit -s unlimited 2>/dev/null; exec "$0" "$@"`, cmd, ...args], { env: { ...process.env, NIX_REMOTE: 'dummy://' }, maxBuffer: 1 << 28 })
      : spawnSync(cmd, args, { env: { ...process.env, NIX_REMOTE: 'dummy://' }, maxBuffer: 1 << 28 });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i > 0) walls.push(wall);
    if (r.status !== 0) {
      ok = false;
      note = `exit ${r.status}: ${r.stderr.toString().split('\n')[0]!.slice(0, 80)}`;
    } else if (expected !== undefined && r.stdout.toString('latin1') !== expected) {
      ok = false;
      note = 'output differs from expected';
    }
  }
  walls.sort((a, b) => a - b);
  return { median: walls[Math.floor(walls.length / 2)]!, ok, note };
}

const names = readdirSync(DIR)
  .filter((f) => f.endsWith('.nix') && f.includes(ONLY))
  .sort();
console.log(`bench/eval: ${names.length} expressions from ${DIR}, ${RUNS} timed runs each (+1 warm-up), medians; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(`${'expression'.padEnd(24)} ${'imgeval s'.padStart(10)} ${'nix s'.padStart(8)} ${'ratio'.padStart(7)}  status`);
const ratios: number[] = [];
for (const f of names) {
  const name = f.replace(/\.nix$/, '');
  const expFile = join(DIR, 'expected', `${name}.out`);
  const expected = existsSync(expFile) ? readFileSync(expFile).toString('latin1') : undefined;
  const mine = time(process.execPath, [BIN, 'eval', '--strict', join(DIR, f)], expected);
  const theirs = haveNix ? time('nix-instantiate', ['--eval', '--strict', join(DIR, f)], expected, name === '06-deep-recursion') : undefined;
  const ratio = theirs && theirs.ok && mine.ok ? mine.median / theirs.median : undefined;
  if (ratio !== undefined) ratios.push(ratio);
  const status = [mine.ok ? 'imgeval ok' : `imgeval FAIL (${mine.note})`, theirs ? (theirs.ok ? 'nix ok' : `nix FAIL (${theirs.note})`) : 'nix missing'].join(', ');
  console.log(
    `${name.padEnd(24)} ${mine.median.toFixed(3).padStart(10)} ${theirs ? theirs.median.toFixed(3).padStart(8) : '-'.padStart(8)} ${ratio !== undefined ? ratio.toFixed(2).padStart(7) : '-'.padStart(7)}  ${status}`,
  );
}
if (ratios.length) {
  const gm = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
  console.log(`geometric mean of imgeval/nix ratios: ${gm.toFixed(2)} (${ratios.length} expressions; goal ≤ 1.0)`);
}
const start = time(process.execPath, [BIN, 'eval', '-E', '1'], '1\n');
const node = time(process.execPath, ['-e', '0'], undefined);
const nixStart = haveNix ? time('nix-instantiate', ['--eval', '--strict', '-E', '1'], '1\n') : undefined;
console.log(
  `start-up: imgeval eval -E 1 ${start.median.toFixed(3)} s (bare node -e 0: ${node.median.toFixed(3)} s${nixStart ? `, nix-instantiate: ${nixStart.median.toFixed(3)} s` : ''})`,
);
