// The built CLI as a user runs it: bin/imgeval.js executed directly (its sh lines and node flags
// apply), which loads the esbuild bundle dist/imgeval.cjs (`npm run build`; `npm ci` runs it
// through `prepare`). Covers what the bundle must keep working: commands loaded lazily, files
// found relative to a module (the prelude), the store (better-sqlite3, required lazily), the
// big-stack eval worker (dist/eval-worker.cjs), the child process of import from derivation,
// error rendering and exit codes; and that the code cache never makes a run fail.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/tools.js';

const test = suite('cli/bin');
const BIN = join(ROOT, 'bin', 'imgeval.js');
const DIST = join(ROOT, 'dist');
const tmp = mkdtempSync(join(tmpdir(), 'imgeval-bin-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], opts: { cwd?: string; node?: boolean } = {}): { code: number | null; stdout: string; stderr: string } {
  if (!existsSync(join(DIST, 'imgeval.cjs')) || !existsSync(join(DIST, 'imgeval.bundle.cjs'))) {
    throw new Error('dist/imgeval.cjs is missing: run `npm run build` first (npm ci runs it through `prepare`)');
  }
  const [cmd, argv] = opts.node ? [process.execPath, [BIN, ...args]] : [BIN, args];
  const r = spawnSync(cmd, argv, { cwd: opts.cwd ?? tmp, encoding: 'utf8', env: { ...process.env, IMGEVAL_STORE: join(tmp, 'default-store') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('eval -E of a value', () => {
  const r = run(['eval', '-E', '{ a = 1 + 2; b = [ "x" ]; }']);
  assert.is(r.stderr, '');
  assert.is(r.stdout, '{ a = 3; b = [ "x" ]; }\n');
  assert.is(r.code, 0);
});

test('eval of a file importing through -I', () => {
  const lib = join(tmp, 'lib');
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(lib, 'greet.img'), 'name: "hello, ${name}"\n');
  writeFileSync(join(tmp, 'main.img'), 'import <mylib/greet.img> "bin"\n');
  const r = run(['eval', '-I', `mylib=${lib}`, 'main.img']);
  assert.is(r.stderr, '');
  assert.is(r.stdout, '"hello, bin"\n');
  assert.is(r.code, 0);
});

test('eval reaching the store: builtins.toFile is written under --store', () => {
  const store = join(tmp, 'store-tofile');
  const r = run(['eval', '--store', store, '-E', 'builtins.toFile "greeting" "hi\\n"']);
  assert.is(r.code, 0, r.stderr);
  const m = /^"\/nix\/store\/([a-z0-9]{32}-greeting)"\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.is(readFileSync(join(store, 'nix', 'store', m![1]!), 'utf8'), 'hi\n');
  assert.ok(existsSync(join(store, 'nix', 'var', 'nix', 'db', 'db.sqlite')));
});

test('--help lists every command; a command --help prints its usage', () => {
  const r = run(['--help']);
  assert.is(r.code, 0, r.stderr);
  for (const c of ['parse', 'eval', 'instantiate', 'show-derivation', 'build', 'store', 'prefetch-image', 'push', 'stream-image']) {
    assert.ok(new RegExp(`^  ${c} `, 'm').test(r.stdout), `--help lists ${c}`);
  }
  const e = run(['eval', '--help']);
  assert.is(e.code, 0);
  assert.match(e.stdout, /^usage: imgeval eval/);
});

test('build of a prelude writeText into a temporary store', () => {
  const store = join(tmp, 'store-build');
  const r = run(['build', '--store', store, '--no-link', '-E', 'writeText "note" "built by the bundle\\n"']);
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout.trim();
  assert.match(out, /^\/nix\/store\/[a-z0-9]{32}-note$/);
  assert.is(readFileSync(join(store, out), 'utf8'), 'built by the bundle\n');
});

test('import from derivation: eval builds in a child process (the bundle, required)', () => {
  const store = join(tmp, 'store-ifd');
  const r = run(['eval', '--store', store, '-E', 'builtins.readFile (writeText "ifd" "from a child build")']);
  assert.is(r.stderr, '');
  assert.is(r.stdout, '"from a child build"\n');
  assert.is(r.code, 0);
});

test('a deep evaluation that overflows node\'s default stack finishes in the eval worker', () => {
  // run as `node bin/imgeval.js`: V8's default stack, so the main thread overflows and
  // cmd-eval re-runs the evaluation in dist/eval-worker.cjs
  const r = run(['eval', '-E', 'let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 30000'], { node: true });
  assert.is(r.stderr, '');
  assert.is(r.stdout, '30000\n');
  assert.is(r.code, 0);
});

test('an error: file:line:col and a code frame on stderr, exit 1', () => {
  writeFileSync(join(tmp, 'bad.img'), 'let\n  x = 1;\nin x + "a"\n');
  const r = run(['eval', 'bad.img']);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^error\[E_[A-Z_]+\]: /);
  assert.match(r.stderr, /--> \S*bad\.img:3:4/);
  assert.match(r.stderr, /^3 \| in x \+ "a"$/m);
  assert.not.match(r.stderr, /\n\s+at /, 'no JS stack trace');
});

test('usage errors exit 2', () => {
  const r = run(['eval', '--no-such-flag', '-E', '1']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^imgeval: /);
  const u = run(['no-such-command']);
  assert.is(u.code, 2);
  assert.match(u.stderr, /unknown command 'no-such-command'/);
});

test('a stale, corrupt or missing code cache never fails a run', () => {
  const caches = () => readdirSync(DIST).filter((f) => f.startsWith('imgeval.') && f.endsWith('.cache'));
  assert.ok(run(['eval', '-E', '1']).code === 0 && caches().length > 0, 'a run leaves a cache for its flags');
  const saved = caches().map((f) => [f, readFileSync(join(DIST, f))] as const);
  try {
    for (const [f, data] of saved) writeFileSync(join(DIST, f), Buffer.concat([data.subarray(0, data.indexOf(10) + 1), Buffer.from('not V8 code cache data')]));
    assert.equal(run(['eval', '-E', '6 * 7']).stdout, '42\n');
    for (const [f] of saved) writeFileSync(join(DIST, f), '/*imgeval-bundle 0000000000000000*/\nstale');
    assert.equal(run(['eval', '-E', '6 * 7']).stdout, '42\n');
    for (const [f] of saved) rmSync(join(DIST, f));
    assert.equal(run(['eval', '-E', '6 * 7']).stdout, '42\n');
  } finally {
    for (const [f, data] of saved) writeFileSync(join(DIST, f), data);
  }
});

test.run();
