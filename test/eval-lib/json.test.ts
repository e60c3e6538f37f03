// fromJSON / toJSON string quoting (src/eval/lib/json.ts) against Nix 2.8 (json.golden.json from
// gen-goldens.ts): the corpus' fromJSON texts, hand-picked numbers, strings, UTF-8, BOMs,
// errors with their exact nlohmann messages, deep nesting and random documents; and the quoting
// of every byte by toJSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isImgError } from '../../src/base/error.js';
import { formatFloat, formatFloatFixed } from '../../src/eval/lib/format-number.js';
import { JsonFloat, JsonObject, parseJSON, quoteJSONString, type JsonTree } from '../../src/eval/lib/json.js';

interface ParseCase {
  text: string;
  from: string;
  value?: unknown;
  error?: string;
}
interface QuoteCase {
  s: string;
  from: string;
  value?: string;
}
const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'json.golden.json'), 'utf8')) as {
  fromJSON: ParseCase[];
  toJSON: QuoteCase[];
};

/**
 * The tagged form gen-goldens.ts asks Nix for: ints as decimal, floats as their %g and %f
 * texts, sets as [name value] pairs in name order (names as string values: cut at a NUL).
 */
function tag(v: JsonTree): unknown {
  if (v === null) return { null: true };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number') assert.ok(Number.isSafeInteger(v), 'ints that are numbers are safe');
    else assert.ok(v < -9007199254740991n || v > 9007199254740991n, 'bigints are not safe ints');
    return { int: v.toString() };
  }
  if (v instanceof JsonFloat) return { float: [formatFloat(v.value), formatFloatFixed(v.value)] };
  if (typeof v === 'string') return { string: v };
  if (Array.isArray(v)) return { list: v.map(tag) };
  if (v instanceof JsonObject) {
    const names = [...v.entries.keys()].sort();
    return { set: names.map((n) => [n.split('\0')[0], tag(v.entries.get(n)!)]) };
  }
  throw new Error('unexpected tree');
}

function run(text: string): { value: unknown } | { error: string } {
  try {
    return { value: tag(parseJSON(text)) };
  } catch (e) {
    if (isImgError(e)) return { error: e.message };
    throw e;
  }
}

const from = suite('fromJSON goldens');
const groups = new Map<string, ParseCase[]>();
for (const c of golden.fromJSON) groups.set(c.from, [...(groups.get(c.from) ?? []), c]);
for (const [name, cs] of groups) {
  from(`${name}: ${cs.length} texts parse as Nix 2.8 parses them`, () => {
    const bad: string[] = [];
    for (const c of cs) {
      const want = c.error !== undefined ? { error: c.error } : { value: c.value };
      const got = run(c.text);
      if (JSON.stringify(got) !== JSON.stringify(want))
        bad.push(`${JSON.stringify(c.text).slice(0, 80)}: got ${JSON.stringify(got)}, Nix ${JSON.stringify(want)}`);
    }
    assert.equal(bad, []);
  });
}
from('errors are ImgError E_EVAL', () => {
  try {
    parseJSON('[');
    assert.unreachable();
  } catch (e) {
    assert.ok(isImgError(e));
    assert.is(e.code, 'E_EVAL');
  }
});
from('the tree keeps ints, floats and keys apart', () => {
  const v = parseJSON('{"i":1,"f":1.0,"big":9223372036854775807,"k\\u0000x":"a\\u0000b"}') as JsonObject;
  assert.is(v.entries.get('i'), 1);
  assert.ok(v.entries.get('f') instanceof JsonFloat);
  assert.is(v.entries.get('big'), 9223372036854775807n);
  assert.is(v.entries.get('k\0x'), 'a');
});
from('deep nesting does not overflow the stack', () => {
  let v = parseJSON('['.repeat(100000) + ']'.repeat(100000));
  let depth = 0;
  while (Array.isArray(v) && v.length > 0) {
    v = v[0]!;
    depth++;
  }
  assert.is(depth, 99999);
});
from.run();

const quote = suite('toJSON string quoting');
quote(`${golden.toJSON.length} strings are quoted as Nix 2.8 quotes them`, () => {
  const bad = golden.toJSON.filter((c) => quoteJSONString(c.s) !== c.value).map((c) => JSON.stringify(c.s));
  assert.equal(bad, []);
  assert.ok(golden.toJSON.filter((c) => c.from === 'byte').length === 255);
});
quote.run();
