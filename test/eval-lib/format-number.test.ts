// Float printing (src/eval/lib/format-number.ts) against Nix 2.8's own output for ~2000
// doubles (format-number.golden.json, from gen-goldens.ts): the value printer and toJSON use
// formatFloat, toString uses formatFloatFixed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFloat, formatFloatFixed } from '../../src/eval/lib/format-number.js';

interface Case {
  bits: string;
  printed: string;
  toString: string;
  toJSON: string;
}
const cases = JSON.parse(readFileSync(join(import.meta.dirname, 'format-number.golden.json'), 'utf8')) as Case[];

function fromBits(hex: string): number {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, BigInt('0x' + hex));
  return v.getFloat64(0);
}

const golden = suite('format-number goldens');
golden(`formatFloat prints ${cases.length} doubles as nix-instantiate --eval does`, () => {
  const bad = cases.filter((c) => formatFloat(fromBits(c.bits)) !== c.printed);
  assert.equal(
    bad.slice(0, 10).map((c) => `${c.bits}: ${formatFloat(fromBits(c.bits))} vs ${c.printed}`),
    [],
  );
});
golden('formatFloat is also what builtins.toJSON writes', () => {
  const bad = cases.filter((c) => formatFloat(fromBits(c.bits)) !== c.toJSON);
  assert.equal(bad.map((c) => c.bits), []);
});
golden('formatFloatFixed is what toString writes', () => {
  const bad = cases.filter((c) => formatFloatFixed(fromBits(c.bits)) !== c.toString);
  assert.equal(
    bad.slice(0, 10).map((c) => `${c.bits}: ${formatFloatFixed(fromBits(c.bits))} vs ${c.toString}`),
    [],
  );
});
golden('the golden holds the forms that matter', () => {
  const printed = new Set(cases.map((c) => c.printed));
  for (const p of ['1', '1.5', '1e+06', '1.23457e+08', '2.5e-07', '-0', 'inf', '-inf', 'nan', '-nan', '0.3'])
    assert.ok(printed.has(p), p);
  assert.ok(cases.length > 1500);
});
golden.run();

const examples = suite('format-number examples');
examples('ties round half to even, as glibc does (1234565 prints 1.23456e+06)', () => {
  for (const x of [1234565, 123456.5, 999999.5]) {
    const c = cases.find((k) => fromBits(k.bits) === x);
    assert.ok(c, `${x} is in the golden`);
    assert.is(formatFloat(x), c.printed);
    assert.is(formatFloatFixed(x), c.toString);
  }
});
examples.run();
