// The scheduler over real graphs: write-text, symlink-join, link-farm and /bin/sh process
// builders depending on each other, a fixed-output process build and a multiple-output one,
// registered so that real Nix agrees (nix-db-check); the environment builders get; the sandbox
// (the store at /nix/store, only the inputs' closure visible, self-references found); a failing
// builder (log tail, nothing registered, no leftovers); valid outputs are not rebuilt; -j runs
// independent builds at once (seen in the builders' own timestamps); keep-going; --check.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../../src/base/error.js';
import { sha256, toNixBase32 } from '../../src/base/hash.js';
import { realise, type BuildEvent } from '../../src/build/scheduler.js';
import { isDerivationPath } from '../../src/derivation/store-path.js';
import { LocalStore } from '../../src/store/local-store.js';
import { needTool } from '../helpers/tools.js';
import { nixDbCheck } from '../store/fixtures.js';
import { addDrv, cleanup, openStore, sh, sharedDir, tempDir } from './helpers.js';

const test = suite('build/scheduler');
test.after(cleanup);

/**
 * nix-db-check on a copy of the store without its .drv paths: the oracle runs `nix path-info`
 * on every valid path, and Nix treats a .drv argument as "build its outputs".
 */
function dbCheckOutputs(root: string): { ok: boolean; out: string } {
  const copy = join(tempDir('dbcheck'), 'root');
  cpSync(root, copy, { recursive: true, verbatimSymlinks: true });
  rmSync(join(copy, 'nix', 'var', 'nix', 'temproots'), { recursive: true, force: true });
  const s = LocalStore.open({ root: copy });
  const drvs = s.queryAllValidPaths().filter(isDerivationPath);
  s.collectGarbage({ only: drvs });
  s.close();
  return nixDbCheck(copy);
}

function leftovers(store: LocalStore): string[] {
  return readdirSync(store.realStoreDir).filter((n) => n.startsWith('.imgeval-tmp-'));
}

test('a graph of built-in, process, fixed-output and multiple-output derivations; Nix agrees', async () => {
  const store = openStore(tempDir('graph'));
  const a = addDrv(store, { name: 'a', builder: 'builtin:write-text', env: { text: 'hello\n' } });
  const pa = a.out.get('out')!;
  const gen = addDrv(
    store,
    sh('gen', `mkdir $out $dev; echo "uses ${pa}" > $out/ref; cp ${pa} $out/copy; echo "$out $dev" > $dev/paths; ln -s $out/ref $dev/link`, {
      inputs: [[a.drvPath, ['out']]],
      outputs: ['out', 'dev'],
    }),
  );
  const fixedBody = 'fixed content\n';
  const fod = addDrv(store, sh('fod', `printf 'fixed content\\n' > $out`, { outputHash: sha256(fixedBody).toString('hex'), outputHashAlgo: 'sha256' }));
  const farm = addDrv(store, {
    name: 'farm',
    builder: 'builtin:link-farm',
    env: { entries: JSON.stringify([{ name: 'gen', path: gen.out.get('out') }, { name: 'data/fod', path: fod.out.get('out') }]) },
    inputs: [[gen.drvPath, ['out']], [fod.drvPath, ['out']]],
  });
  const join_ = addDrv(store, { name: 'joined', builder: 'builtin:symlink-join', env: { paths: `${gen.out.get('out')} ${gen.out.get('dev')}` }, inputs: [[gen.drvPath, ['out', 'dev']]] });
  const top = addDrv(
    store,
    sh('top', `mkdir $out; ls -R ${farm.out.get('out')}/ > $out/farm-listing; cat ${join_.out.get('out')}/paths > $out/paths; echo $out > $out/self`, {
      inputs: [[farm.drvPath, ['out']], [join_.drvPath, ['out']]],
    }),
  );
  const events: BuildEvent[] = [];
  const [r] = await realise(store, [{ drvPath: top.drvPath }], { jobs: 2, onEvent: (e) => events.push(e) });
  const ptop = r!.outputs.get('out')!;
  assert.is(ptop, top.out.get('out'));
  const plan = events.find((e) => e.type === 'plan') as Extract<BuildEvent, { type: 'plan' }>;
  assert.is(plan.build.length, 6);
  assert.is(events.filter((e) => e.type === 'done').length, 6);
  // References: found by scanning for the inputs' closure and the outputs themselves.
  assert.equal(store.queryReferences(gen.out.get('out')!), [pa]);
  assert.equal(store.queryReferences(gen.out.get('dev')!), [gen.out.get('dev')!, gen.out.get('out')!].sort());
  assert.equal(store.queryReferences(fod.out.get('out')!), []);
  assert.is(store.queryPathInfo(fod.out.get('out')!)!.ca, `fixed:sha256:${toNixBase32(sha256(fixedBody))}`);
  // `ls -R farm/` prints the farm's own path as its first line.
  assert.equal(store.queryReferences(ptop), [gen.out.get('dev')!, gen.out.get('out')!, farm.out.get('out')!, ptop].sort());
  assert.is(store.queryPathInfo(ptop)!.deriver, top.drvPath);
  assert.is(readFileSync(join(store.toPhysical(ptop), 'self'), 'utf8'), `${ptop}\n`);
  assert.match(readFileSync(join(store.toPhysical(ptop), 'farm-listing'), 'utf8'), /data:\nfod\n/);
  assert.equal(leftovers(store), []);
  assert.equal(store.verify().problems, []);
  store.close();
  if (!needTool('nix-db-check', 'nix-store', 'sqlite3', 'jq')) return;
  const check = dbCheckOutputs(store.root);
  assert.ok(check.ok, check.out);
  assert.match(check.out, /checked 7 paths/);
});

test('the builder environment is the one Nix gives (plus passAsFile)', async () => {
  const store = openStore(tempDir('env'));
  const d = addDrv(store, {
    name: 'env',
    builder: '/bin/sh',
    args: ['-c', 'while read -r l; do :; done < "$bigPath"; /usr/bin/env > $out; /bin/cat "$bigPath" >> $out'],
    env: { big: 'contents passed as a file', passAsFile: 'big', quoted: 'a "b" \\c' },
  });
  const [r] = await realise(store, [{ drvPath: d.drvPath }]);
  const text = readFileSync(store.toPhysical(r!.outputs.get('out')!), 'utf8');
  const lines = text.split('\n');
  const tail = lines.pop();
  const env = new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.is(tail, 'contents passed as a file');
  const top = '/tmp/nix-build-env-0';
  const bigPath = env.get('bigPath')!;
  assert.match(bigPath, /^\/tmp\/nix-build-env-0\/\.attr-[0-9a-z]{52}$/);
  assert.equal(
    Object.fromEntries([...env].sort()),
    Object.fromEntries(
      [
        ['HOME', '/homeless-shelter'],
        ['NIX_BUILD_CORES', String((await import('node:os')).availableParallelism())],
        ['NIX_BUILD_TOP', top],
        ['NIX_LOG_FD', '2'],
        ['NIX_STORE', '/nix/store'],
        ['PATH', '/path-not-set'],
        ['PWD', top],
        ['TEMP', top],
        ['TEMPDIR', top],
        ['TERM', 'xterm-256color'],
        ['TMP', top],
        ['TMPDIR', top],
        ['bigPath', bigPath],
        ['builder', '/bin/sh'],
        ['name', 'env'],
        ['out', d.out.get('out')!],
        ['passAsFile', 'big'],
        ['quoted', 'a "b" \\c'],
        ['system', 'x86_64-linux'],
      ].sort(),
    ),
  );
  store.close();
});

test('a builder gets the stack limit bin/imgeval.js found (IMGEVAL_OS_STACK), not the raised one', async () => {
  const store = openStore(tempDir('stack'));
  const d = addDrv(store, sh('stack', 'ulimit -s > $out'));
  const [r] = await realise(store, [{ drvPath: d.drvPath }], { hostEnv: { ...process.env, IMGEVAL_OS_STACK: '4321' } });
  assert.is(readFileSync(store.toPhysical(r!.outputs.get('out')!), 'utf8'), '4321\n');
  store.close();
});

test('the sandbox shows the store at /nix/store with only the inputs closure', async () => {
  const store = openStore(tempDir('ns'));
  const a = addDrv(store, { name: 'a', builder: 'builtin:write-text', env: { text: 'A' } });
  const stranger = store.addTextToStore('stranger', 'not an input');
  const probe = addDrv(
    store,
    sh(
      'probe',
      `mkdir $out; echo $out/bin > $out/where; cat ${a.out.get('out')} > $out/a; ` +
        `if [ -e ${stranger} ]; then echo visible > $out/stranger; else echo hidden > $out/stranger; fi; ` +
        `echo x > ${a.out.get('out')} 2>/dev/null && echo writable > $out/input || echo read-only > $out/input; ` +
        `ls /nix/store | sort > $out/store-listing`,
      { inputs: [[a.drvPath, ['out']]] },
    ),
  );
  const [r] = await realise(store, [{ drvPath: probe.drvPath }]);
  const out = r!.outputs.get('out')!;
  const p = store.toPhysical(out);
  const read = (n: string) => readFileSync(join(p, n), 'utf8');
  assert.is(read('where'), `${out}/bin\n`);
  assert.is(read('a'), 'A');
  assert.is(read('stranger'), 'hidden\n');
  assert.is(read('input'), 'read-only\n');
  assert.is(readFileSync(store.toPhysical(a.out.get('out')!), 'utf8'), 'A');
  const base = (s: string) => s.slice('/nix/store/'.length);
  assert.is(read('store-listing'), [base(a.out.get('out')!), base(out)].sort().join('\n') + '\n');
  assert.equal(store.queryReferences(out), [a.out.get('out')!, out].sort());
  store.close();
});

test('exportReferencesGraph writes the closure in registration format', async () => {
  const store = openStore(tempDir('erg'));
  const a = addDrv(store, { name: 'a', builder: 'builtin:write-text', env: { text: 'A' } });
  const b = addDrv(store, { name: 'b', builder: 'builtin:link-farm', env: { entries: JSON.stringify([{ name: 'a', path: a.out.get('out') }]) }, inputs: [[a.drvPath, ['out']]] });
  const pb = b.out.get('out')!;
  const pa = a.out.get('out')!;
  const d = addDrv(store, sh('graph', 'cp graph-of-b $out', { env: { exportReferencesGraph: `graph-of-b ${pb}` }, inputs: [[b.drvPath, ['out']]] }));
  const [r] = await realise(store, [{ drvPath: d.drvPath }]);
  const text = readFileSync(store.toPhysical(r!.outputs.get('out')!), 'utf8');
  const expected = [pa, pb].sort().map((p) => (p === pb ? `${pb}\n\n1\n${pa}\n` : `${pa}\n\n0\n`)).join('');
  assert.is(text, expected);
  store.close();
});

test('a process builder for another system is refused before it runs', async () => {
  const store = openStore(tempDir('platform'));
  const counter = join(sharedDir('platform'), 'ran');
  const d = addDrv(store, { ...sh('arm', `echo ran > ${counter}; echo > $out`), system: 'aarch64-darwin' });
  let err: unknown;
  try {
    await realise(store, [{ drvPath: d.drvPath }]);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ImgError);
  assert.is((err as ImgError).message, `a 'aarch64-darwin' is required to build '${d.drvPath}', but I am a 'x86_64-linux'`);
  assert.not.ok(existsSync(counter));
  store.close();
});

test('a failing builder: log tail in the error, nothing registered, no leftovers, log kept', async () => {
  const store = openStore(tempDir('fail'));
  const d = addDrv(store, sh('fails', 'mkdir $out; for i in $(seq 1 40); do echo "line $i"; done; echo oops >&2; exit 3'));
  let err: ImgError | undefined;
  try {
    await realise(store, [{ drvPath: d.drvPath }]);
  } catch (e) {
    err = e as ImgError;
  }
  assert.ok(err instanceof ImgError);
  assert.is(err.message, `builder for '${d.drvPath}' failed with exit code 3`);
  const tail = err.notes[0]!.message.split('\n');
  assert.is(tail[0], 'last 25 log lines:');
  assert.is(tail.length, 26);
  assert.is(tail[1], '  > line 17');
  assert.is(tail[25], '  > oops');
  const logFile = err.notes[1]!.message.replace('full log: ', '');
  assert.ok(logFile.startsWith(join(store.root, 'nix/var/log/imgeval/drvs/')));
  assert.match(readFileSync(logFile, 'utf8'), /^line 1\n/);
  assert.not.ok(store.isValidPath(d.out.get('out')!));
  assert.not.ok(existsSync(store.toPhysical(d.out.get('out')!)));
  assert.equal(leftovers(store), []);
  store.close();
});

test('valid outputs are not rebuilt, and neither is anything below them', async () => {
  const store = openStore(tempDir('skip'));
  const counter = join(sharedDir('count'), 'builds');
  const a = addDrv(store, sh('a', `echo a >> ${counter}; echo a > $out`));
  const b = addDrv(store, sh('b', `echo b >> ${counter}; cat ${a.out.get('out')} > $out`, { inputs: [[a.drvPath, ['out']]] }));
  await realise(store, [{ drvPath: b.drvPath }]);
  assert.is(readFileSync(counter, 'utf8'), 'a\nb\n');
  const events: BuildEvent[] = [];
  await realise(store, [{ drvPath: b.drvPath }], { onEvent: (e) => events.push(e) });
  assert.is(readFileSync(counter, 'utf8'), 'a\nb\n');
  assert.equal(events, [{ type: 'plan', build: [], check: [] }]);
  // Below valid outputs nothing is read: a's .drv may even be gone from the disk.
  const c = addDrv(store, sh('c', `echo c >> ${counter}; cat ${b.out.get('out')} > $out`, { inputs: [[b.drvPath, ['out']]] }));
  rmSync(store.toPhysical(a.drvPath), { force: true });
  await realise(store, [{ drvPath: c.drvPath }]);
  assert.is(readFileSync(counter, 'utf8'), 'a\nb\nc\n');
  store.close();
});

test('-j runs independent builds at once; -j 1 one after the other (builder timestamps)', async () => {
  const store = openStore(tempDir('jobs'));
  const dir = sharedDir('jobs');
  const mk = (name: string, tag: string) =>
    addDrv(store, sh(name, `echo "start ${name} $(date +%s%N)" >> ${dir}/${tag}; sleep 0.4; echo "end ${name} $(date +%s%N)" >> ${dir}/${tag}; echo ${name} > $out`));
  const spans = (tag: string) => {
    const m = new Map<string, { start: bigint; end: bigint }>();
    for (const l of readFileSync(join(dir, tag), 'utf8').trim().split('\n')) {
      const [what, name, ts] = l.split(' ');
      const s = m.get(name!) ?? { start: 0n, end: 0n };
      s[what as 'start' | 'end'] = BigInt(ts!);
      m.set(name!, s);
    }
    return [...m.values()];
  };
  const par = [mk('p1', 'par'), mk('p2', 'par')];
  await realise(store, par.map((d) => ({ drvPath: d.drvPath })), { jobs: 2 });
  const [x, y] = spans('par');
  assert.ok(x!.start < y!.end && y!.start < x!.end, 'the two builds overlap');
  const ser = [mk('s1', 'ser'), mk('s2', 'ser')];
  await realise(store, ser.map((d) => ({ drvPath: d.drvPath })), { jobs: 1 });
  const [u, v] = spans('ser');
  assert.ok(u!.end <= v!.start || v!.end <= u!.start, 'the two builds do not overlap');
  store.close();
});

test('a failure stops what depends on it; keep-going still builds the independent ones', async () => {
  const store = openStore(tempDir('keep'));
  const bad = addDrv(store, sh('bad', 'exit 1'));
  const after = addDrv(store, sh('after', `cat ${bad.out.get('out')} > $out`, { inputs: [[bad.drvPath, ['out']]] }));
  const indep = addDrv(store, sh('indep', 'sleep 0.3; echo ok > $out'));
  const events: BuildEvent[] = [];
  let err: unknown;
  try {
    await realise(store, [{ drvPath: after.drvPath }, { drvPath: indep.drvPath }], { jobs: 2, keepGoing: true, onEvent: (e) => events.push(e) });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ImgError);
  assert.is((err as ImgError).message, `builder for '${bad.drvPath}' failed with exit code 1`);
  assert.ok(store.isValidPath(indep.out.get('out')!));
  assert.not.ok(store.isValidPath(after.out.get('out')!));
  assert.ok(events.some((e) => e.type === 'skipped' && e.drvPath === after.drvPath && e.reason === `dependency '${bad.drvPath}' failed`));
  store.close();
});

test('without keep-going, a failure stops builds that have not started yet', async () => {
  const store = openStore(tempDir('stop'));
  const bad = addDrv(store, sh('bad', 'sleep 0.2; exit 1'));
  const later = addDrv(store, sh('later', 'echo ok > $out'));
  const events: BuildEvent[] = [];
  let err: unknown;
  try {
    await realise(store, [{ drvPath: bad.drvPath }, { drvPath: later.drvPath }], { jobs: 1, onEvent: (e) => events.push(e) });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ImgError);
  assert.not.ok(store.isValidPath(later.out.get('out')!));
  assert.ok(events.some((e) => e.type === 'skipped' && e.drvPath === later.drvPath && e.reason === 'stopped after a failure'));
  store.close();
});

test('--check: a deterministic build passes, one that writes the time fails naming the file', async () => {
  const store = openStore(tempDir('check'));
  const good = addDrv(store, sh('good', 'mkdir -p $out/share; echo same > $out/share/data'));
  const bad = addDrv(store, sh('clock', 'mkdir -p $out/share; echo same > $out/share/a; date +%N > $out/share/b'));
  await realise(store, [{ drvPath: good.drvPath }, { drvPath: bad.drvPath }]);
  const events: BuildEvent[] = [];
  await realise(store, [{ drvPath: good.drvPath }], { check: true, onEvent: (e) => events.push(e) });
  assert.equal(events[0], { type: 'plan', build: [], check: [good.drvPath] });
  assert.ok(events.some((e) => e.type === 'done' && e.mode === 'check'));
  let err: ImgError | undefined;
  try {
    await realise(store, [{ drvPath: bad.drvPath }], { check: true });
  } catch (e) {
    err = e as ImgError;
  }
  const out = bad.out.get('out')!;
  assert.ok(err instanceof ImgError);
  assert.is(err.message, `derivation '${bad.drvPath}' may not be deterministic: output '${out}' differs`);
  assert.match(err.notes[0]!.message, new RegExp(`^first difference at '${out}/share/b': contents differ`));
  // The registered output is untouched and still verifies.
  assert.ok(store.isValidPath(out));
  assert.equal(store.verify().problems, []);
  assert.equal(leftovers(store), []);
  store.close();
});

test.run();
