// `imgeval instantiate` and `imgeval show-derivation` against the real `nix-instantiate` and
// `nix show-derivation` (Nix 2.8, private chroot store) on the plain-Nix files of cli-cases/
// (and `imgeval eval` against `nix-instantiate --eval --strict [--json]` on the same files):
// the same stdout byte for byte (drvPaths, `!output` suffixes, the JSON), the same `.drv`
// bytes in both stores, and show-derivation from an evaluated file equal to the one from paths.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { needTool } from '../helpers/tools.js';
import { nixEnv } from '../derivation/nix-env.js';

const test = suite('cli instantiate / show-derivation');
const CASES = join(import.meta.dirname, 'cli-cases');

const CALLS: Record<string, string[]> = {
  'set-of-drvs': [],
  list: [],
  function: ['--arg', 'n', '3', '--argstr', 'greeting', 'hi there', '-A', 'pkg', '-A', 'other'],
};

async function imgeval(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function nix(cmd: string, args: string[], store: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { env: nixEnv(store), encoding: 'latin1' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

if (needTool('instantiate/show-derivation against Nix', 'nix-instantiate', 'nix')) {
  for (const name of readdirSync(CASES).filter((f) => f.endsWith('.nix')).map((f) => f.slice(0, -4)).sort()) {
    test(name, async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'imgeval-cli-drv-'));
      try {
        const file = join(CASES, `${name}.nix`);
        const extra = CALLS[name] ?? [];
        const want = nix('nix-instantiate', [file, ...extra], join(tmp, 'nix'));
        assert.is(want.code, 0, want.stderr);
        const got = await imgeval(['instantiate', '--store', join(tmp, 'ours'), file, ...extra]);
        assert.is(got.code, 0, got.stderr);
        assert.is(got.stdout, want.stdout, 'instantiate stdout');
        assert.is(got.stderr, want.stderr, 'instantiate stderr (the --add-root warning)');
        const drvs = [...new Set(want.stdout.split('\n').filter(Boolean).map((l) => l.replace(/!.*$/, '')))];
        for (const d of drvs) {
          const base = d.slice('/nix/store/'.length);
          assert.is(readFileSync(join(tmp, 'ours/nix/store', base), 'latin1'), readFileSync(join(tmp, 'nix/nix/store', base), 'latin1'), `${d} bytes`);
        }
        // `imgeval eval` prints derivations as `nix-instantiate --eval --strict` does («repeated»).
        for (const fmt of [[], ['--json']]) {
          const evalWant = nix('nix-instantiate', ['--eval', '--strict', ...fmt, file, ...extra], join(tmp, 'nix'));
          assert.is(evalWant.code, 0, evalWant.stderr);
          const evalGot = await imgeval(['eval', '--store', join(tmp, 'ours'), ...fmt, file, ...extra]);
          assert.is(evalGot.stdout, evalWant.stdout, `eval ${fmt.join(' ')}`);
        }
        for (const rec of [[], ['-r']]) {
          const showWant = nix('nix', ['--extra-experimental-features', 'nix-command', 'show-derivation', ...rec, ...drvs], join(tmp, 'nix'));
          assert.is(showWant.code, 0, showWant.stderr);
          const showGot = await imgeval(['show-derivation', '--store', join(tmp, 'ours'), ...rec, ...drvs]);
          assert.is(showGot.code, 0, showGot.stderr);
          assert.is(showGot.stdout, showWant.stdout, `show-derivation ${rec.join(' ')}`);
          const fromFile = await imgeval(['show-derivation', '--store', join(tmp, 'ours'), ...rec, file, ...extra]);
          assert.is(fromFile.stdout, showWant.stdout, `show-derivation ${rec.join(' ')} FILE`);
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
}

test('usage errors and a path that is not a derivation', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'imgeval-cli-drv-'));
  try {
    assert.is((await imgeval(['instantiate', '--store', tmp])).code, 2);
    const r = await imgeval(['instantiate', '--store', tmp, '-E', '42']);
    assert.is(r.code, 1);
    assert.match(r.stderr, 'expression does not evaluate to a derivation (or a set or list of those)');
    const missing = await imgeval(['show-derivation', '--store', tmp, '/nix/store/00000000000000000000000000000000-x.drv']);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, "path '/nix/store/00000000000000000000000000000000-x.drv' is not valid");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
