// `imgeval build` as a user runs it: the same expression built by real Nix 2.8 (`nix-build` into
// a chroot store) and by imgeval gives identical `nix-store --dump-db` (paths, narHash, narSize,
// derivers, references); the prelude's builders; result links and GC roots; no rebuild the
// second time; -o / --no-link; a failing build (exit 1, the .img location, the log tail);
// --check; usage errors (exit 2).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { chownSync, cpSync, lstatSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { LocalStore } from '../../src/store/local-store.js';
import { needTool } from '../helpers/tools.js';
import { TSX, cleanup, runCli, tempDir } from './helpers.js';
import { ROOT } from '../helpers/tools.js';

const test = suite('build/cli');
test.after(cleanup);

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...(opts.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const NIX_EXPR = `{ data, sha256 }:
let
  sh = name: script: extra: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; } // extra);
  fetched = import <nix/fetchurl.nix> { url = data; inherit sha256; };
  multi = sh "multi" "mkdir $out $dev; echo hi > $out/x; echo $out > $dev/out-path" { outputs = [ "out" "dev" ]; };
in sh "top" "mkdir $out; cp \${fetched} $out/data; chmod +x $out/data; cat \${multi.dev}/out-path > $out/p; ln -s \${multi} $out/multi; echo $out > $out/self; cp graph $out/graph" { exportReferencesGraph = [ "graph" multi.dev ]; }
`;

test('imgeval build and nix-build agree on every path of a graph (nix-store --dump-db)', async () => {
  if (!needTool('nix-build oracle', 'nix-build', 'nix-store')) return;
  const d = tempDir('nixbuild');
  writeFileSync(join(d, 't.nix'), NIX_EXPR);
  const body = Buffer.from('data served on 127.0.0.1\n');
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/data.txt`;
  const hash = createHash('sha256').update(body).digest('hex');
  try {
    const args = ['--argstr', 'data', url, '--argstr', 'sha256', hash];
    const nixEnv = { HOME: join(d, 'home'), NIX_CONFIG: 'substituters =\nextra-sandbox-paths = /bin /usr /lib /lib64' };
    const nix = await run('nix-build', ['--store', `local?root=${join(d, 'nix')}`, 't.nix', ...args, '--no-out-link'], { cwd: d, env: nixEnv });
    assert.is(nix.code, 0, nix.stderr);
    const ours = await run(process.execPath, ['--import', TSX, join(ROOT, 'test/build/cli-entry.ts'), 'build', '--store', join(d, 'ours'), 't.nix', ...args, '--no-link'], { cwd: d });
    assert.is(ours.code, 0, ours.stderr);
    assert.is(ours.stdout, nix.stdout);
    cpSync(join(d, 'ours'), join(d, 'ours-copy'), { recursive: true, verbatimSymlinks: true });
    const dump = async (root: string) => (await run('nix-store', ['--store', `local?root=${root}`, '--dump-db'], { env: nixEnv })).stdout;
    const a = await dump(join(d, 'nix'));
    const b = await dump(join(d, 'ours-copy'));
    assert.ok(a.split('\n').length > 30, a);
    assert.is(b, a);
  } finally {
    server.close();
  }
});

const IMG = `let
  greeting = writeText "greeting" "hello from imgeval\\n";
  tool = writeShellScriptBin "tool" "echo tool";
  data = runCommand "data" { } "mkdir -p $out/share; cp \${greeting} $out/share/greeting";
in {
  env = symlinkJoin { name = "env"; paths = [ tool data ]; };
  farm = linkFarm "farm" [ { name = "etc/greeting"; path = greeting; } ];
  broken = runCommand "broken" { } "echo about to fail; exit 4";
  clock = runCommand "clock" { } "date +%N > $out";
}
`;

test('prelude builders through the CLI: result links, GC roots, printed paths, no rebuild', () => {
  const d = tempDir('img');
  const store = join(d, 'store');
  writeFileSync(join(d, 'default.img'), IMG);
  const r = runCli(['build', '--store', store, 'default.img', '-A', 'env', '-A', 'farm'], { cwd: d });
  assert.is(r.code, 0, r.stderr);
  const [env, farm] = r.stdout.trim().split('\n');
  assert.match(env!, /^\/nix\/store\/[0-9a-z]{32}-env$/);
  assert.match(farm!, /^\/nix\/store\/[0-9a-z]{32}-farm$/);
  const s = LocalStore.open({ root: store });
  assert.is(readlinkSync(join(d, 'result')), s.toPhysical(env!));
  assert.is(readlinkSync(join(d, 'result-2')), s.toPhysical(farm!));
  // The tree's symlinks point to logical /nix/store paths (what images see).
  assert.match(readlinkSync(join(d, 'result', 'share', 'greeting')), /^\/nix\/store\/[0-9a-z]{32}-data\/share\/greeting$/);
  assert.match(readlinkSync(join(d, 'result', 'bin', 'tool')), /^\/nix\/store\/[0-9a-z]{32}-tool\/bin\/tool$/);
  const roots = [...s.findRoots().values()].sort();
  assert.equal(roots, [env!, farm!].sort());
  assert.equal(readdirSync(join(store, 'nix/var/nix/gcroots/auto')).map((n) => readlinkSync(join(store, 'nix/var/nix/gcroots/auto', n))).sort(), [join(d, 'result'), join(d, 'result-2')]);
  s.close();
  const again = runCli(['build', '--store', store, 'default.img', '-A', 'env', '-A', 'farm', '-o', 'out'], { cwd: d });
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, r.stdout);
  assert.not.match(again.stderr, /building/);
  assert.ok(lstatSync(join(d, 'out')).isSymbolicLink() && lstatSync(join(d, 'out-2')).isSymbolicLink());
  const nolink = runCli(['build', '--store', store, '-E', 'writeText "x" "y"', '--no-link'], { cwd: d });
  assert.is(nolink.code, 0, nolink.stderr);
  assert.not.ok(readdirSync(d).includes('result-3'));
});

test('a failing build: exit 1, where it was defined, the log tail, nothing registered', () => {
  const d = tempDir('img-fail');
  writeFileSync(join(d, 'default.img'), IMG);
  const r = runCli(['build', '--store', join(d, 'store'), 'default.img', '-A', 'broken'], { cwd: d });
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E_BUILD\]: builder for '\/nix\/store\/[0-9a-z]{32}-broken\.drv' failed with exit code 4/);
  assert.match(r.stderr, /--> .*default\.img:\d+:\d+/);
  assert.match(r.stderr, /> about to fail/);
  assert.is(r.stdout, '');
  const s = LocalStore.open({ root: join(d, 'store') });
  assert.not.ok(s.queryAllValidPaths().some((p) => p.endsWith('-broken')));
  s.close();
});

test('--check through the CLI, and usage errors', () => {
  const d = tempDir('img-check');
  writeFileSync(join(d, 'default.img'), IMG);
  const store = join(d, 'store');
  assert.is(runCli(['build', '--store', store, 'default.img', '-A', 'farm', '-A', 'clock', '--no-link'], { cwd: d }).code, 0);
  const ok = runCli(['build', '--store', store, 'default.img', '-A', 'farm', '--check', '--no-link'], { cwd: d });
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /will be checked/);
  const bad = runCli(['build', '--store', store, 'default.img', '-A', 'clock', '--check', '--no-link'], { cwd: d });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /may not be deterministic: output '\/nix\/store\/[0-9a-z]{32}-clock' differs/);
  assert.is(runCli(['build', '--store', store, '-j', '0', '-E', '1'], { cwd: d }).code, 2);
  const list = runCli(['build', '--list-builders'], { cwd: d });
  assert.is(list.code, 0);
  const listed = list.stdout.split('\n').filter((l) => l.startsWith('builtin:'));
  for (const b of ['builtin:fetchurl', 'builtin:link-farm', 'builtin:symlink-join', 'builtin:write-text']) assert.ok(listed.includes(b), b);
  assert.equal(listed, [...listed].sort());
  assert.is(runCli(['build', '--store', store], { cwd: d }).code, 2);
  const notDrv = runCli(['build', '--store', store, '-E', '42'], { cwd: d });
  assert.is(notDrv.code, 1);
  assert.match(notDrv.stderr, /not a derivation/);
});

test('an unprivileged user builds through a user namespace (setpriv to uid 65534)', () => {
  if (process.getuid?.() !== 0) {
    console.log('\n  skip: the unprivileged-user build test switches users, which needs root');
    return;
  }
  if (!needTool('unprivileged build', 'setpriv')) return;
  const d = tempDir('unpriv');
  chownSync(d, 65534, 65534);
  const r = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', `HOME=${d}`, process.execPath, '--import', TSX, join(ROOT, 'test/build/cli-entry.ts'),
      'build', '--store', join(d, 'store'), '-E', 'runCommand "r" {} "mkdir $out; id -u > $out/uid; echo $out > $out/self"'],
    { cwd: d, encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout.trim();
  const st = lstatSync(join(d, 'result'));
  assert.ok(st.isSymbolicLink());
  // Inside the namespace the builder is root (mapped); on disk everything belongs to the user.
  assert.is(readFileSync(join(d, 'result', 'uid'), 'utf8'), '0\n');
  assert.is(readFileSync(join(d, 'result', 'self'), 'utf8'), `${out}\n`);
  assert.is(lstatSync(join(d, 'result', 'self')).uid, 65534);
  assert.is(lstatSync(join(d, 'result', 'self')).mode & 0o7777, 0o444);
  const s = LocalStore.open({ root: join(d, 'store') });
  assert.equal(s.verify().problems, []);
  s.close();
});

test.run();
