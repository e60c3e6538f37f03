// The warm-up program (eval/warm-up.ts) evaluates to the value Nix gives it, and the first
// EvalState of a process runs it (once) without changing what user code sees.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { SourceFile } from '../../src/base/source.js';
import { EvalState } from '../../src/eval/state.js';
import { WARM_UP_RESULT, WARM_UP_SOURCE, warmUp } from '../../src/eval/warm-up.js';
import { needTool } from '../helpers/tools.js';

const host = {
  readFile: () => '',
  readDir: () => [],
  pathType: () => undefined,
  getEnv: () => undefined,
  trace: () => {},
  cwd: () => '/',
  currentTime: () => 0,
};

test('the warm-up program evaluates to WARM_UP_RESULT', () => {
  const st = new EvalState({ host, warmUp: false });
  assert.is(st.evalSource(new SourceFile('<warm-up>', WARM_UP_SOURCE, '/')), WARM_UP_RESULT);
});

test('the warm-up runs once per process; later states evaluate as usual', () => {
  const st = new EvalState({ host });
  assert.is(warmUp(st), undefined);
  assert.is(st.evalSource(new SourceFile('(string)', 'let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 10', '/')), 10);
});

test('WARM_UP_RESULT is what nix-instantiate computes', () => {
  if (!needTool('checking the warm-up value with Nix', 'nix-instantiate')) return;
  const r = spawnSync('nix-instantiate', ['--eval', '--strict', '-E', WARM_UP_SOURCE], { env: { ...process.env, NIX_REMOTE: 'dummy://' } });
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString().trim(), String(WARM_UP_RESULT));
});

test.run();
