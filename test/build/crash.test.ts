// Crashes and concurrency with real processes (the CLI run as children): `kill -9` of a build at
// several points (a slow process builder and a big write-text) leaves a store that verifies,
// and the next build completes; killing imgeval also kills its builders (pid namespace +
// parent-death signal); two `imgeval build` processes on one store build each derivation once
// (counted by the builders themselves) and both succeed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { LocalStore } from '../../src/store/local-store.js';
import { addDrv, cleanup, openStore, sh, sharedDir, spawnCli, tempDir } from './helpers.js';

const test = suite('build/crash');
test.after(cleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the child's stderr contains `marker` (or it exits). */
function waitFor(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve) => {
    let buf = '';
    const on = (c: Buffer) => {
      buf += c.toString();
      if (buf.includes(marker)) {
        child.stderr!.off('data', on);
        resolve();
      }
    };
    child.stderr!.on('data', on);
    child.on('exit', () => resolve());
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  return new Promise((r) => child.on('exit', (code) => r({ code, stdout, stderr })));
}

function graph(root: string, counter: string) {
  const store = openStore(root);
  const big = addDrv(store, { name: 'big', builder: 'builtin:write-text', env: { text: 'o'.repeat(4 * 1024 * 1024) + '\n', destination: '/share/big' } });
  const slow = addDrv(
    store,
    sh('slow', `echo slow >> ${counter}; mkdir -p $out/part; for i in 1 2 3 4 5 6; do echo $i > $out/part/$i; sleep 0.1; done; echo $out > $out/self`),
  );
  const top = addDrv(
    store,
    sh('top', `echo top >> ${counter}; mkdir $out; ln -s ${big.out.get('out')}/share/big $out/big; cp ${slow.out.get('out')}/self $out/`, {
      inputs: [[big.drvPath, ['out']], [slow.drvPath, ['out']]],
    }),
  );
  store.close();
  return { big, slow, top };
}

test('kill -9 at several points: the store verifies and the next build completes', async () => {
  const root = tempDir('kill');
  const counter = join(sharedDir('kill'), 'builds');
  const { top, slow, big } = graph(root, counter);
  const delays = [0, 60, 200, 450, 700];
  for (const d of delays) {
    const child = spawnCli(['build', '--store', root, '--no-link', top.drvPath]);
    const done = exitOf(child);
    await waitFor(child, "building '");
    await sleep(d);
    child.kill('SIGKILL');
    await done;
    const store = LocalStore.open({ root });
    const v = store.verify();
    assert.equal(v.problems, [], `after a kill at +${d} ms`);
    // Whatever is valid is complete.
    if (store.isValidPath(slow.out.get('out')!)) assert.ok(existsSync(join(store.toPhysical(slow.out.get('out')!), 'self')));
    store.close();
  }
  const child = spawnCli(['build', '--store', root, '--no-link', top.drvPath]);
  const r = await exitOf(child);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `${top.out.get('out')}\n`);
  const store = LocalStore.open({ root });
  assert.equal(store.verify().problems, []);
  const out = store.toPhysical(top.out.get('out')!);
  assert.is(readFileSync(join(out, 'self'), 'utf8'), `${slow.out.get('out')}\n`);
  assert.is(readlinkSync(join(out, 'big')), `${big.out.get('out')}/share/big`);
  assert.is(readFileSync(join(store.toPhysical(big.out.get('out')!), 'share', 'big')).length, 4 * 1024 * 1024 + 1);
  assert.equal(store.queryReferences(top.out.get('out')!), [big.out.get('out')!, slow.out.get('out')!].sort());
  // Leftovers of the killed runs are gone once their owners are dead and the store is opened.
  assert.equal(readdirSync(store.realStoreDir).filter((n) => n.startsWith('.imgeval-tmp-')), []);
  store.close();
});

test('killing imgeval kills its builders', async () => {
  const root = tempDir('orphans');
  const marks = join(sharedDir('orphans'), 'marks');
  const store = openStore(root);
  const d = addDrv(store, sh('sleeper', `echo started >> ${marks}; sleep 1.5; echo finished >> ${marks}; echo > $out`));
  store.close();
  const child = spawnCli(['build', '--store', root, '--no-link', d.drvPath]);
  const done = exitOf(child);
  for (let i = 0; i < 200 && !(existsSync(marks) && readFileSync(marks, 'utf8').includes('started')); i++) await sleep(25);
  child.kill('SIGKILL');
  await done;
  await sleep(2000);
  assert.is(readFileSync(marks, 'utf8'), 'started\n');
});

test('two builds of one graph at once: each derivation is built once, both succeed', async () => {
  const root = tempDir('two');
  const counter = join(sharedDir('two'), 'builds');
  const store = openStore(root);
  const a = addDrv(store, sh('a', `echo a >> ${counter}; sleep 0.3; echo a > $out`));
  const b = addDrv(store, sh('b', `echo b >> ${counter}; sleep 0.3; cat ${a.out.get('out')} > $out`, { inputs: [[a.drvPath, ['out']]] }));
  const c = addDrv(store, sh('c', `echo c >> ${counter}; sleep 0.3; echo c > $out`));
  const t = addDrv(store, { name: 't', builder: 'builtin:link-farm', env: { entries: JSON.stringify([{ name: 'b', path: b.out.get('out') }]) }, inputs: [[b.drvPath, ['out']]] });
  store.close();
  const args = ['build', '--store', root, '--no-link', t.drvPath, c.drvPath];
  const [r1, r2] = await Promise.all([exitOf(spawnCli(args)), exitOf(spawnCli(args))]);
  assert.is(r1.code, 0, r1.stderr);
  assert.is(r2.code, 0, r2.stderr);
  assert.is(r1.stdout, r2.stdout);
  assert.equal(readFileSync(counter, 'utf8').trim().split('\n').sort(), ['a', 'b', 'c']);
  const s = LocalStore.open({ root });
  assert.equal(s.verify().problems, []);
  s.close();
});

test.run();
