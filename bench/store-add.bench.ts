// Bench: adding a 1 GiB tree to the store — imgeval's LocalStore.addToStore against
// `nix-store --add` (Nix 2.8, chroot store) on the same tree in the same run. The tree is the
// deterministic synthetic closure of ../shared/bench/layers/gen-closure.mjs (300 store-path
// directories, ~20k files, 12 big binaries), generated once and cached under
// $TMPDIR/imgeval-bench/closure-1g. Both sides start from a warm page cache and a fresh store;
// each is run RUNS times and the best time counts. Prints MB/s for both and the ratios of wall
// time and of CPU time (user + system; steadier when other work shares the machine).
//   node --import tsx bench/store-add.bench.ts [--mib 1024] [--runs 2]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalStore } from '../src/store/local-store.js';
import { deleteTree } from '../src/store/fs-tree.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const MIB = opt('--mib', 1024);
const RUNS = opt('--runs', 2);
const SHARED = resolve(import.meta.dirname, '..', '..', 'shared');
const GEN = join(SHARED, 'bench', 'layers', 'gen-closure.mjs');

const cacheDir = join(tmpdir(), 'imgeval-bench');
const tree = join(cacheDir, `closure-${MIB}m`);
const stamp = `${tree}.done`;
mkdirSync(cacheDir, { recursive: true });
if (!existsSync(stamp)) {
  console.log(`generating the ${MIB} MiB tree under ${tree} (once) …`);
  execFileSync(process.execPath, [GEN, '--root', tree, '--total-mib', String(MIB), '--seed', '1', '--force'], { stdio: 'inherit' });
  writeFileSync(stamp, 'ok\n');
}
const manifest = JSON.parse(readFileSync(`${tree}.json`, 'utf8')) as { totals: { bytes: number; files: number; symlinks: number } };
const bytes = manifest.totals.bytes;
console.log(`tree: ${(bytes / 1048576).toFixed(1)} MiB in ${manifest.totals.files} files + ${manifest.totals.symlinks} symlinks`);

// Warm the page cache so both sides read from memory (tar to /dev/null reads every file).
spawnSync('tar', ['-cf', '/dev/null', '-C', tree, '.'], { stdio: 'ignore' });

const haveNix = spawnSync('sh', ['-c', 'command -v nix-store'], { stdio: 'ignore' }).status === 0;
const work = mkdtempSync(join(cacheDir, 'run-'));

interface Timing {
  ms: number;
  /** CPU seconds (user + system): steadier than wall time on a shared machine. */
  cpu: number;
  path: string;
}

function timeImgeval(): Timing {
  const root = join(work, `img-${Math.random().toString(36).slice(2)}`);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const store = LocalStore.open({ root });
  const path = store.addToStore(tree);
  store.close();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  deleteTree(root);
  return { ms, cpu: (c.user + c.system) / 1e6, path };
}

function timeNix(): Timing {
  const root = join(work, `nix-${Math.random().toString(36).slice(2)}`);
  const env = {
    PATH: process.env.PATH,
    HOME: join(work, 'home'),
    NIX_CONFIG: 'substituters =',
    NIX_REMOTE: `local?root=${root}`,
    NIX_STATE_DIR: join(work, 'state'),
  };
  // bash's `times` prints the children's user and system CPU time on its second line.
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', 'nix-store --add "$1" && times', 'bench', tree], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`nix-store --add failed: ${r.stderr}`);
  deleteTree(root);
  const lines = r.stdout.trim().split('\n');
  const secs = (t: string): number => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  };
  const [u, sy] = lines[lines.length - 1]!.split(/\s+/);
  return { ms, cpu: secs(u!) + secs(sy!), path: lines[0]! };
}

const mbps = (ms: number): string => (bytes / 1e6 / (ms / 1000)).toFixed(1);
try {
  const best = { img: Infinity, nix: Infinity };
  const cpu = { img: Infinity, nix: Infinity };
  const paths = { img: '', nix: '' };
  for (let i = 0; i < RUNS; i++) {
    const a = timeImgeval();
    best.img = Math.min(best.img, a.ms);
    cpu.img = Math.min(cpu.img, a.cpu);
    paths.img = a.path;
    console.log(`  run ${i + 1}: imgeval addToStore ${(a.ms / 1000).toFixed(2)} s (${mbps(a.ms)} MB/s), CPU ${a.cpu.toFixed(2)} s`);
    if (haveNix) {
      const b = timeNix();
      best.nix = Math.min(best.nix, b.ms);
      cpu.nix = Math.min(cpu.nix, b.cpu);
      paths.nix = b.path;
      console.log(`  run ${i + 1}: nix-store --add     ${(b.ms / 1000).toFixed(2)} s (${mbps(b.ms)} MB/s), CPU ${b.cpu.toFixed(2)} s`);
    }
  }
  console.log(`imgeval addToStore: ${mbps(best.img)} MB/s (best of ${RUNS}: ${(best.img / 1000).toFixed(2)} s)`);
  if (haveNix) {
    if (paths.img !== paths.nix) throw new Error(`different store paths: imgeval ${paths.img}, nix ${paths.nix}`);
    console.log(`nix-store --add:    ${mbps(best.nix)} MB/s (best of ${RUNS}: ${(best.nix / 1000).toFixed(2)} s)`);
    console.log(`ratio imgeval/nix throughput: ${(best.nix / best.img).toFixed(2)}x wall, ${(cpu.nix / cpu.img).toFixed(2)}x CPU (same path ${paths.img})`);
  } else {
    console.log('nix-store not found: no comparison');
  }
} finally {
  deleteTree(work);
}
