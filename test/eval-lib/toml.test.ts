// fromTOML (src/eval/lib/toml.ts) against Nix 2.8 (toml.golden.json from gen-goldens.ts): the
// corpus' fromTOML documents and hand-picked cases for every construct, the table rules,
// number edge cases, strings, dates and errors. Values must be identical; for an error, Nix
// must fail too, with the same first message line (two known exceptions below).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isImgError } from '../../src/base/error.js';
import { formatFloat, formatFloatFixed } from '../../src/eval/lib/format-number.js';
import { JsonFloat, JsonObject, type JsonTree } from '../../src/eval/lib/json.js';
import { parseTOML } from '../../src/eval/lib/toml.js';

interface Case {
  text: string;
  from: string;
  value?: unknown;
  error?: string;
}
const cases = JSON.parse(readFileSync(join(import.meta.dirname, 'toml.golden.json'), 'utf8')) as Case[];

/** The tagged form gen-goldens.ts asks Nix for (see json.test.ts). */
function tag(v: JsonTree): unknown {
  if (v === null) return { null: true };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number' || typeof v === 'bigint') return { int: v.toString() };
  if (v instanceof JsonFloat) return { float: [formatFloat(v.value), formatFloatFixed(v.value)] };
  if (typeof v === 'string') return { string: v };
  if (Array.isArray(v)) return { list: v.map(tag) };
  if (v instanceof JsonObject) {
    const names = [...v.entries.keys()].sort();
    return { set: names.map((n) => [n.split('\0')[0], tag(v.entries.get(n)!)]) };
  }
  throw new Error('unexpected tree');
}

const DATE_ERROR = 'while parsing a TOML string: Dates and times are not supported';

/**
 * Errors whose wording differs from Nix's (both fail): Nix 2.8 crashes on a bad UTF-8 byte in
 * a literal string (a failed assertion in toml11), and toml11 names the enclosing table, not
 * the key, when a dotted key enters a table defined by a header.
 */
const KNOWN_MESSAGE_DIFFERENCES = new Set(["a = '\xff'", '[a.b]\nx = 1\n[a]\nb.y = 2']);

const golden = suite('fromTOML goldens');
const groups = new Map<string, Case[]>();
for (const c of cases) groups.set(c.from, [...(groups.get(c.from) ?? []), c]);
for (const [name, cs] of groups) {
  golden(`${name}: ${cs.length} documents read as Nix 2.8 reads them`, () => {
    const bad: string[] = [];
    for (const c of cs) {
      let got: { value: unknown } | { error: string };
      try {
        got = { value: tag(parseTOML(c.text)) };
      } catch (e) {
        if (!isImgError(e)) throw e;
        assert.is(e.code, 'E_EVAL');
        got = { error: e.message };
      }
      const show = `${JSON.stringify(c.text).slice(0, 70)}: got ${JSON.stringify(got).slice(0, 300)}, Nix ${JSON.stringify(c.value ?? c.error).slice(0, 300)}`;
      if (c.error === undefined) {
        if (!('value' in got) || JSON.stringify(got.value) !== JSON.stringify(c.value)) bad.push(show);
      } else if (!('error' in got)) bad.push(show);
      else if (got.error !== c.error && !KNOWN_MESSAGE_DIFFERENCES.has(c.text)) bad.push(show);
    }
    assert.equal(bad, []);
  });
}
golden('the golden covers the corpus and dates', () => {
  assert.ok(groups.has('eval-okay-fromTOML.nix'));
  assert.ok(cases.filter((c) => c.error === DATE_ERROR).length >= 10);
});
golden.run();

const props = suite('fromTOML tree');
props('ints, floats and tables keep their kinds', () => {
  const t = parseTOML('i = 1\nf = 1.0\nbig = 9223372036854775807\n[s]\nx = "a\\u0000b"');
  assert.is(t.entries.get('i'), 1);
  assert.ok(t.entries.get('f') instanceof JsonFloat);
  assert.is(t.entries.get('big'), 9223372036854775807n);
  assert.is((t.entries.get('s') as JsonObject).entries.get('x'), 'a');
});
props.run();
