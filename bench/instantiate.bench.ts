// Instantiation throughput: a generated expression of many derivations (a 20-wide, 100-deep
// lattice where each derivation depends on the outputs of its row's previous layer, plus a
// toFile per derivation and some env attrs) evaluated and written as .drv files by imgeval (in
// process, through cli/session, fresh store) and by the real `nix-instantiate` (fresh private
// chroot store), measured in the same run; the printed drvPaths must be identical.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession } from '../src/cli/session.js';
import { getDerivations } from '../src/cli/eval-input.js';
import { nixEnv } from '../test/derivation/nix-env.js';

const WIDTH = 20;
const DEPTH = 100;
const dir = mkdtempSync(join(tmpdir(), 'imgeval-instbench-'));
const file = join(dir, 'lattice.nix');
writeFileSync(
  file,
  `let
  mk = i: j: deps: derivation {
    name = "n-\${toString i}-\${toString j}";
    system = "x86_64-linux";
    builder = "/bin/sh";
    args = [ "-c" "echo \${toString i} > $out" ];
    note = builtins.toFile "note-\${toString i}-\${toString j}" "layer \${toString i} row \${toString j}";
    inherit deps;
    flags = [ "a" "b" 1 2 true ];
  };
  layer = i: prev: builtins.genList (j: mk i j (if prev == [] then [] else [ (builtins.elemAt prev j) (builtins.elemAt prev (if j == 0 then ${WIDTH - 1} else j - 1)) ])) ${WIDTH};
  go = i: prev: if i == ${DEPTH} then prev else go (i + 1) (layer i prev);
in go 0 []
`,
);
try {
  const t0 = performance.now();
  const s = createSession({ storeRoot: join(dir, 'ours'), env: {}, cwd: dir, trace: () => {} });
  const root = s.state.importFile(file, undefined);
  const mine = getDerivations(s, root).map((d) => d.drvPath);
  s.close();
  const ours = performance.now() - t0;

  const t1 = performance.now();
  const r = spawnSync('nix-instantiate', [file], { env: nixEnv(join(dir, 'nix')), encoding: 'utf8', maxBuffer: 1 << 26 });
  const nix = performance.now() - t1;
  if (r.status !== 0) throw new Error(`nix-instantiate failed: ${r.stderr}`);
  const theirs = r.stdout.split('\n').filter(Boolean);
  if (theirs.join('\n') !== mine.join('\n')) throw new Error('drvPaths differ from nix-instantiate');
  const n = WIDTH * DEPTH;
  console.log(`${n} derivations (+${n} toFile paths), ${WIDTH} wide × ${DEPTH} deep, written to a fresh store`);
  console.log(`imgeval (in process)  ${ours.toFixed(0).padStart(6)} ms  ${((n / ours) * 1000).toFixed(0)} drv/s`);
  console.log(`nix-instantiate       ${nix.toFixed(0).padStart(6)} ms  ${((n / nix) * 1000).toFixed(0)} drv/s  (imgeval/nix = ${(ours / nix).toFixed(2)}×)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
