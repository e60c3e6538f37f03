// Realisation throughput: the same graph (N independent /bin/sh derivations and one that reads
// them all) built by `imgeval build` and by real Nix 2.8 `nix-build` into a chroot store
// (sandboxed, host /bin /usr /lib visible), cold, then the no-op rebuild; plus N built-in
// write-text derivations and a link-farm over them (imgeval only: Nix has no such builtins).
// Both tools are run as processes (start-up included), in the same run; prints seconds and ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.BUILD_BENCH_N ?? 40);
const dir = mkdtempSync(join(tmpdir(), 'imgeval-buildbench-'));
const cli = join(import.meta.dirname, '..', 'test', 'build', 'cli-entry.ts');
const tsx = import.meta.resolve('tsx');

const shGraph = `let
  sh = name: script: inputs: derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; deps = inputs; };
  leaves = builtins.genList (i: sh "leaf-\${toString i}" "echo \${toString i} > $out" [ ]) ${N};
in sh "top" "cat $deps > $out" leaves
`;
const builtinGraph = `let
  texts = builtins.genList (i: writeText "text-\${toString i}" "text number \${toString i}\\n") ${N};
in linkFarm "farm" (builtins.genList (i: { name = "t/\${toString i}"; path = builtins.elemAt texts i; }) ${N})
`;
writeFileSync(join(dir, 'sh.nix'), shGraph);
writeFileSync(join(dir, 'builtin.img'), builtinGraph);

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return s;
}

try {
  const jobs = String(availableParallelism());
  const nixEnv = { HOME: join(dir, 'home'), NIX_CONFIG: `substituters =\nextra-sandbox-paths = /bin /usr /lib /lib64\nmax-jobs = ${jobs}` };
  const nixArgs = ['--store', `local?root=${join(dir, 'nix')}`, 'sh.nix', '--no-out-link'];
  const ourArgs = ['--import', tsx, cli, 'build', '--store', join(dir, 'ours'), '--no-link', '-j', jobs];
  const nixCold = time('nix-build', nixArgs, nixEnv);
  const nixWarm = time('nix-build', nixArgs, nixEnv);
  const ourCold = time(process.execPath, [...ourArgs, 'sh.nix']);
  const ourWarm = time(process.execPath, [...ourArgs, 'sh.nix']);
  const bCold = time(process.execPath, [...ourArgs, 'builtin.img']);
  const bWarm = time(process.execPath, [...ourArgs, 'builtin.img']);
  const f = (x: number) => x.toFixed(2).padStart(6);
  console.log(`graph: ${N} /bin/sh leaves + 1 top, -j ${jobs}`);
  console.log(`  cold build  imgeval ${f(ourCold)} s   nix-build ${f(nixCold)} s   ratio ${(ourCold / nixCold).toFixed(2)}  (${((N + 1) / ourCold).toFixed(1)} drv/s vs ${((N + 1) / nixCold).toFixed(1)} drv/s)`);
  console.log(`  no-op       imgeval ${f(ourWarm)} s   nix-build ${f(nixWarm)} s   ratio ${(ourWarm / nixWarm).toFixed(2)}`);
  console.log(`graph: ${N} builtin:write-text + 1 builtin:link-farm (imgeval only)`);
  console.log(`  cold build  imgeval ${f(bCold)} s (${((N + 1) / bCold).toFixed(1)} drv/s, CLI start-up and evaluation included)   no-op ${f(bWarm)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
