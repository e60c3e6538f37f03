// test/lang/eval-ok/*.img must print exactly their .exp (written by real `nix-instantiate --eval
// --strict`: UPDATE_GOLDEN=1 rewrites them from Nix 2.8); test/lang/eval-fail/*.img must fail
// with exactly their .err (our rendered ImgError, from a reviewed run; UPDATE_GOLDEN=1 rewrites
// it and also checks that Nix 2.8 fails on the file). Cases are found automatically.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runEval } from '../../src/cli/cmd-eval.js';
import { memoryIO } from '../../src/cli/io.js';
import { ROOT, needTool } from '../helpers/tools.js';

const update = process.env.UPDATE_GOLDEN === '1';
const env = { HOME: '/fake-home', TEST_VAR: 'foo' };

function run(rel: string) {
  const io = memoryIO();
  const r = runEval(['--eval', '--strict', rel], io, { cwd: ROOT, env });
  return { code: r.code, stdout: pwd(io.stdout), stderr: io.stderr.split(`${ROOT}/`).join('') };
}

/** The checkout's absolute path as `/pwd` (as upstream's harness does), so goldens hold anywhere. */
function pwd(s: string): string {
  return s.split(ROOT).join('/pwd');
}

const ok = suite('lang eval-ok');
const okDir = join(ROOT, 'test/lang/eval-ok');
for (const f of readdirSync(okDir).filter((x) => x.endsWith('.img')).sort()) {
  const rel = `test/lang/eval-ok/${f}`;
  const exp = join(okDir, f.replace(/\.img$/, '.exp'));
  ok(f, () => {
    if (update) {
      if (!needTool('eval-ok goldens', 'nix-instantiate')) return;
      const out = execFileSync('nix-instantiate', ['--eval', '--strict', rel], { cwd: ROOT, env: { ...process.env, ...env, NIX_REMOTE: 'dummy://' } });
      writeFileSync(exp, Buffer.from(pwd(out.toString('latin1')), 'latin1'));
    }
    assert.ok(existsSync(exp), `${exp} missing (run with UPDATE_GOLDEN=1)`);
    const r = run(rel);
    assert.is(r.stderr, '');
    assert.is(r.code, 0);
    assert.fixture(r.stdout, readFileSync(exp).toString('latin1'));
  });
}
ok.run();

const fail = suite('lang eval-fail');
const failDir = join(ROOT, 'test/lang/eval-fail');
for (const f of readdirSync(failDir).filter((x) => x.endsWith('.img')).sort()) {
  const rel = `test/lang/eval-fail/${f}`;
  const errFile = join(failDir, f.replace(/\.img$/, '.err'));
  fail(f, () => {
    const r = run(rel);
    if (update) {
      if (needTool('eval-fail goldens', 'nix-instantiate')) {
        const n = spawnSync('nix-instantiate', ['--eval', '--strict', rel], { cwd: ROOT, env: { ...process.env, ...env, NIX_REMOTE: 'dummy://' } });
        assert.is.not(n.status, 0, `Nix 2.8 evaluates ${rel}: not an eval-fail case`);
      }
      writeFileSync(errFile, Buffer.from(r.stderr, 'latin1'));
    }
    assert.is(r.code, 1);
    assert.is(r.stdout, '');
    assert.ok(existsSync(errFile), `${errFile} missing (run with UPDATE_GOLDEN=1)`);
    assert.fixture(r.stderr, readFileSync(errFile).toString('latin1'));
  });
}
fail.run();
