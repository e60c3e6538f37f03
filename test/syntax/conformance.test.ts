// The Nix language conformance corpus (../shared/conformance/nix-lang and master/), read in
// place: every parse-okay-* and eval-okay-* file parses and resolves with Nix 2.8's global
// names (as a file, so relative paths resolve to its folder); every parse-fail-* case that Nix
// 2.8 rejects (MANIFEST status `agree`) is rejected with an error that has a position.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED } from '../helpers/tools.js';
import { parseFile } from './helpers.js';

const CORPUS = join(SHARED, 'conformance', 'nix-lang');
const test = suite('syntax/conformance');

/**
 * parse-fail cases are required when MANIFEST says Nix 2.8 agrees. The one other case,
 * master/parse-fail-eof-in-string (status `error`: Nix 2.8 crashes on it, rc=139, instead of
 * rejecting it), is required too: it is an unterminated string, which we must reject.
 * No case is excluded.
 */
const ALSO_REQUIRED = new Set(['master/parse-fail-eof-in-string']);

function manifest(): Map<string, { kind: string; status: string }> {
  const m = new Map<string, { kind: string; status: string }>();
  for (const line of readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'latin1').split('\n').slice(1)) {
    const [name, kind, status] = line.split('\t');
    if (name && kind && status) m.set(name, { kind, status });
  }
  return m;
}

const cases: { name: string; path: string; expect: 'ok' | 'fail' }[] = [];
for (const [sub, prefix] of [['', ''], ['master', 'master/']] as const) {
  const dir = join(CORPUS, sub);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.nix')) continue;
    const name = prefix + f.slice(0, -4);
    if (f.startsWith('parse-okay-') || f.startsWith('eval-okay-')) cases.push({ name, path: join(dir, f), expect: 'ok' });
    else if (f.startsWith('parse-fail-')) cases.push({ name, path: join(dir, f), expect: 'fail' });
  }
}

test('the corpus is there and MANIFEST lists every parse case', () => {
  const m = manifest();
  assert.ok(cases.length > 300, `only ${cases.length} cases found under ${CORPUS}`);
  for (const c of cases) if (c.name.includes('parse-')) assert.ok(m.has(c.name), `${c.name} is not in MANIFEST.tsv`);
});

const m = manifest();
for (const c of cases) {
  const entry = m.get(c.name);
  if (c.expect === 'fail' && entry?.status !== 'agree' && !ALSO_REQUIRED.has(c.name)) continue;
  test(c.name, () => {
    const r = parseFile(c.path);
    if (c.expect === 'ok') {
      assert.ok(r.ok, r.ok ? '' : `${c.name}: ${r.errors.map((e) => e.message).join('; ')}`);
    } else {
      assert.not.ok(r.ok, `${c.name} parsed, but Nix 2.8 rejects it`);
      if (!r.ok) for (const e of r.errors) assert.ok(e.span, `${c.name}: error without a position: ${e.message}`);
    }
  });
}

test.run();
