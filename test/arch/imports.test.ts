// src/ folders import only leftwards: base → syntax → eval → derivation → store → build →
// image → cli (ARCHITECTURE.md). This test reads every import in src/ and fails on one that
// points right, or into a folder that is not in the list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../helpers/tools.js';

const ORDER = ['base', 'syntax', 'eval', 'derivation', 'store', 'build', 'image', 'cli'];
const SRC = join(ROOT, 'src');

function files(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The rightward (or unknown-folder) imports among `sources` (paths relative to src/). */
function violations(sources: { path: string; text: string }[]): string[] {
  const bad: string[] = [];
  for (const { path, text } of sources) {
    const folder = path.split('/')[0]!;
    const rank = ORDER.indexOf(folder);
    if (rank < 0) {
      bad.push(`src/${path}: folder '${folder}' is not one of ${ORDER.join(', ')}`);
      continue;
    }
    for (const m of text.matchAll(/(?:import|export)[^'";]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      const target = relative(SRC, resolve(SRC, dirname(path), spec)).split('/')[0]!;
      const tr = ORDER.indexOf(target);
      if (tr < 0 || tr > rank) bad.push(`src/${path} imports '${spec}' (${folder} → ${target})`);
    }
  }
  return bad;
}

test('every src/ import points left (or within its folder)', () => {
  const sources = files(SRC).map((f) => ({ path: relative(SRC, f), text: readFileSync(f, 'utf8') }));
  assert.ok(sources.length > 5);
  assert.equal(violations(sources), []);
});

test('a rightward import, a dynamic one and an unknown folder are all caught', () => {
  const bad = violations([
    { path: 'eval/x.ts', text: "import { Store } from '../store/db.js';" },
    { path: 'syntax/y.ts', text: "const m = await import('../image/tar.js');" },
    { path: 'misc/z.ts', text: '' },
    { path: 'cli/ok.ts', text: "import { a } from '../base/error.js';\nimport { b } from './args.js';" },
  ]);
  assert.equal(bad.length, 3);
  assert.match(bad[0]!, /eval → store/);
  assert.match(bad[1]!, /syntax → image/);
  assert.match(bad[2]!, /misc/);
});

test.run();
