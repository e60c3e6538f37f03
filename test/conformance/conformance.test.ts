// The Nix language conformance corpus: every case MANIFEST.tsv marks `agree` (the 2.8 suite and
// the master suite) must pass, except those listed in notyetpassing.txt, which must still fail
// (so the list stays honest: a listed case that starts passing fails this test).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest, runCase } from './run-case.js';

const NOT_YET = new Set(
  readFileSync(join(import.meta.dirname, 'notyetpassing.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean),
);

const cases = readManifest().filter((c) => c.status === 'agree');
const counts = new Map<string, { pass: number; total: number }>();

for (const group of ['root', 'master']) {
  const test = suite(`conformance ${group}`);
  for (const c of cases.filter((x) => x.name.startsWith('master/') === (group === 'master'))) {
    test(c.name, () => {
      const r = runCase(c);
      const key = `${group} ${c.kind}`;
      const k = counts.get(key) ?? { pass: 0, total: 0 };
      k.total++;
      if (r.ok) k.pass++;
      counts.set(key, k);
      if (NOT_YET.has(c.name)) assert.ok(!r.ok, `${c.name} passes now: remove it from test/conformance/notyetpassing.txt`);
      else assert.ok(r.ok, `${c.name}: ${r.detail}`);
    });
  }
  test.after(() => {
    for (const [k, v] of [...counts].filter(([k]) => k.startsWith(group))) console.log(`  conformance ${k}: ${v.pass}/${v.total} pass`);
  });
  test.run();
}
