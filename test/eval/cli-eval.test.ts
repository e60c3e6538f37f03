// `imgeval eval` through main(), as a user runs it: output and exit codes compared with real
// `nix-instantiate --eval --strict` for the same flags (when Nix is installed), usage errors,
// --doc, and deep recursion (re-run on a worker with a big stack; a runaway one ends in a clean
// stack-overflow error).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { ROOT, needTool } from '../helpers/tools.js';

const test = suite('cli eval');

async function imgeval(args: string[]) {
  const io = memoryIO();
  const code = await main(['eval', ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function nix(args: string[], cwd = ROOT) {
  const r = spawnSync('nix-instantiate', ['--eval', '--strict', ...args], { cwd, env: { ...process.env, NIX_REMOTE: 'dummy://', NIX_PATH: '' } });
  return { code: r.status, stdout: r.stdout.toString('latin1') };
}

const dir = mkdtempSync(join(tmpdir(), 'imgeval-cli-'));
mkdirSync(join(dir, 'lib'));
writeFileSync(join(dir, 'lib', 'default.nix'), '{ greeting ? "hi", name }: { msg = "${greeting} ${name}"; n = [ 1 2.5 null ]; f = x: x; }');
writeFileSync(join(dir, 'top.img'), 'let l = import <mylib>; in { inherit (l { name = "img"; }) msg; }');

const SAME_AS_NIX: string[][] = [
  ['-E', '1 + 2'],
  ['-E', '{ a = [ 1 "x" ]; b = { c = null; }; }', '--json'],
  ['-E', '{ a = [ 1 "x" ]; f = { x, ... }: x; }', '--xml', '--no-location'],
  [join(dir, 'lib'), '--argstr', 'name', 'world', '-A', 'msg'],
  [join(dir, 'lib'), '--arg', 'name', '"a" + "b"', '--argstr', 'greeting', 'yo'],
  ['-E', '[ 10 20 30 ]', '-A', '1'],
  ['-I', `mylib=${join(dir, 'lib')}`, join(dir, 'top.img')],
  ['-E', '{ x = { y = 5; }; }', '-A', 'x.y', '-A', 'x'],
];

for (const args of SAME_AS_NIX) {
  test(`same output as nix-instantiate: ${args.join(' ').replaceAll(dir, '$DIR')}`, async () => {
    const mine = await imgeval(args);
    assert.is(mine.stderr, '');
    assert.is(mine.code, 0);
    if (!needTool('comparing with Nix', 'nix-instantiate')) return;
    const theirs = nix(args);
    assert.is(theirs.code, 0);
    assert.is(mine.stdout, theirs.stdout);
  });
}

test('evaluation and syntax errors exit 1 with a rendered, positioned error', async () => {
  const e = await imgeval(['-E', '{ a = 1; }.b']);
  assert.is(e.code, 1);
  assert.is(e.stdout, '');
  assert.match(e.stderr, /^error\[E_MISSING_ATTR\]: attribute 'b' missing\n  --> \(string\):1:12\n/);
  const s = await imgeval(['-E', '{ a = 1; ']);
  assert.is(s.code, 1);
  assert.match(s.stderr, /^error\[E_[A-Z_]+\]/);
  assert.not.match(s.stderr, /    at /); // never a JS stack trace
});

test('bad usage exits 2', async () => {
  assert.is((await imgeval([])).code, 2);
  assert.is((await imgeval(['--frobnicate', '-E', '1'])).code, 2);
  assert.is((await imgeval(['-E', '1', '--json', '--xml'])).code, 2);
  assert.is((await imgeval(['--doc', 'noSuchBuiltin'])).code, 2);
});

test('--doc prints a builtin doc and --doc builtins lists them all', async () => {
  const one = await imgeval(['--doc', 'map']);
  assert.is(one.code, 0);
  assert.match(one.stdout, /^map f list: /);
  const all = await imgeval(['--doc', 'builtins']);
  const listed = all.stdout.trim().split('\n').map((l) => l.split('\t')[0]);
  const names = await imgeval(['-E', 'builtins.attrNames builtins', '--json']);
  const fromEval = (JSON.parse(names.stdout) as string[]).filter((n) => n !== 'builtins');
  assert.equal(listed, fromEval);
  for (const l of all.stdout.trim().split('\n')) assert.ok(l.split('\t')[1]!.length > 10, `doc of ${l}`);
});

test('the builtins are those of Nix 2.8', async () => {
  const mine = await imgeval(['-E', 'builtins.attrNames builtins']);
  if (!needTool('comparing with Nix', 'nix-instantiate')) return;
  assert.is(mine.stdout, nix(['-E', 'builtins.attrNames builtins']).stdout);
});

test('deep recursion (100000 levels) evaluates', async () => {
  const r = await imgeval(['-E', 'let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100000']);
  assert.is(r.stderr, '');
  assert.is(r.stdout, '100000\n');
});

test('a runaway recursion ends in a clean stack-overflow error', async () => {
  process.env.IMGEVAL_EVAL_STACK_MB = '48'; // a smaller worker stack: same path, faster end
  const r = await imgeval(['-E', 'let f = n: 1 + f (n + 1); in f 0']).finally(() => delete process.env.IMGEVAL_EVAL_STACK_MB);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error\[E_STACK\]: stack overflow/);
  assert.match(r.stderr, /while calling 'f'.*\(repeated \d+ times\)/);
  assert.not.match(r.stderr, /    at /);
});

test.run();
