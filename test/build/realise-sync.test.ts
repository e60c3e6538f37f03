// realiseSync (for import from derivation): blocks until the worker has built the graph, passes
// the scheduler's events on, returns the outputs; a failing build comes back as the ImgError.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ImgError } from '../../src/base/error.js';
import { realiseSync } from '../../src/build/realise-sync.js';
import type { BuildEvent } from '../../src/build/scheduler.js';
import { addDrv, cleanup, openStore, sh, tempDir } from './helpers.js';

const test = suite('build/realise-sync');
test.after(cleanup);

test('realiseSync builds a graph synchronously and reports events', () => {
  const root = tempDir('sync');
  const store = openStore(root);
  const a = addDrv(store, { name: 'a', builder: 'builtin:write-text', env: { text: 'let x = 1; in x + 41' } });
  const b = addDrv(store, sh('b', `cp ${a.out.get('out')} $out`, { inputs: [[a.drvPath, ['out']]] }));
  const events: BuildEvent[] = [];
  const r = realiseSync([{ drvPath: b.drvPath }], { storeRoot: root, onEvent: (e) => events.push(e) });
  assert.equal(r, [{ drvPath: b.drvPath, outputs: new Map([['out', b.out.get('out')!]]) }]);
  // The caller's own store handle sees the new paths.
  assert.ok(store.isValidPath(b.out.get('out')!));
  assert.is(readFileSync(store.toPhysical(b.out.get('out')!), 'utf8'), 'let x = 1; in x + 41');
  assert.equal(events.map((e) => e.type).filter((t) => t !== 'log'), ['plan', 'start', 'done', 'start', 'done']);
  store.close();
});

test('realiseSync loads extra built-in builders from modules', () => {
  const root = tempDir('sync-extra');
  const store = openStore(root);
  const d = addDrv(store, { name: 'upper', builder: 'builtin:test-upper', env: { text: 'shout' } });
  const url = new URL('./fixtures-extra-builder.ts', import.meta.url).href;
  const [r] = realiseSync([{ drvPath: d.drvPath }], { storeRoot: root, builtinModules: [url] });
  assert.is(readFileSync(store.toPhysical(r!.outputs.get('out')!), 'utf8'), 'SHOUT');
  store.close();
});

test('realiseSync: a failure is thrown as the ImgError', () => {
  const root = tempDir('sync-fail');
  const store = openStore(root);
  const d = addDrv(store, sh('nope', 'echo broken; exit 2'));
  let err: unknown;
  try {
    realiseSync([{ drvPath: d.drvPath }], { storeRoot: root });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ImgError);
  assert.is((err as ImgError).message, `builder for '${d.drvPath}' failed with exit code 2`);
  assert.match((err as ImgError).notes[0]!.message, /> broken/);
  store.close();
});

test.run();
