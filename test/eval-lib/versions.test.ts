// splitVersion / compareVersions / parseDrvName (src/eval/lib/versions.ts) against Nix 2.8
// (versions.golden.json from gen-goldens.ts): ~115 version strings (hand-picked edge cases and
// random ones), compared pairwise (~13000 comparisons), the corpus' own comparisons, and
// parseDrvName on ~130 names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareVersions, parseDrvName, splitVersion } from '../../src/eval/lib/versions.js';

const g = JSON.parse(readFileSync(join(import.meta.dirname, 'versions.golden.json'), 'utf8')) as {
  versions: string[];
  splitVersion: string[][];
  compareVersions: number[][];
  corpusCompare: { a: string; b: string; from: string; value: number }[];
  parseDrvName: { s: string; name: string; version: string }[];
};

const t = suite('versions goldens');
t(`splitVersion of ${g.versions.length} strings`, () => {
  assert.equal(
    g.versions.map((v) => splitVersion(v)),
    g.splitVersion,
  );
});
t(`compareVersions on all ${g.versions.length ** 2} ordered pairs`, () => {
  const bad: string[] = [];
  g.versions.forEach((a, i) =>
    g.versions.forEach((b, j) => {
      const got = compareVersions(a, b);
      if (got !== g.compareVersions[i]![j]) bad.push(`${JSON.stringify(a)} ${JSON.stringify(b)}: ${got} vs ${g.compareVersions[i]![j]}`);
    }),
  );
  assert.equal(bad, []);
});
t(`the corpus' ${g.corpusCompare.length} comparisons`, () => {
  assert.ok(g.corpusCompare.some((c) => c.from === 'eval-okay-versions.nix'));
  for (const c of g.corpusCompare) assert.is(compareVersions(c.a, c.b), c.value, `${c.a} ${c.b}`);
});
t(`parseDrvName of ${g.parseDrvName.length} names`, () => {
  for (const c of g.parseDrvName) assert.equal(parseDrvName(c.s), { name: c.name, version: c.version }, c.s);
});
t.run();
