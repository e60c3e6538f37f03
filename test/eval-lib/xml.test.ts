// XML attribute escaping (src/eval/lib/xml.ts) against Nix 2.8's builtins.toXML
// (xml.golden.json from gen-goldens.ts): every byte and the corpus' strings as
// `<string value=...>` and as `<attr name=...>`, and attribute order in whole documents.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeXMLAttr, xmlAttrs } from '../../src/eval/lib/xml.js';

type Row = { s: string; from: string; value: string };
const g = JSON.parse(readFileSync(join(import.meta.dirname, 'xml.golden.json'), 'utf8')) as {
  attrValues: Row[];
  attrNames: Row[];
  documents: { expr: string; value: string }[];
};

const HEAD = "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n";
const t = suite('xml goldens');
t(`${g.attrValues.length} strings as <string value=...>`, () => {
  const bad = g.attrValues
    .filter((r) => `${HEAD}  <string value="${escapeXMLAttr(r.s)}" />\n</expr>\n` !== r.value)
    .map((r) => JSON.stringify(r.s));
  assert.equal(bad, []);
  assert.is(g.attrValues.filter((r) => r.from === 'byte').length, 255);
  assert.ok(g.attrValues.some((r) => r.from === 'eval-okay-toxml2.nix'));
});
t(`${g.attrNames.length} strings as <attr name=...>`, () => {
  const bad = g.attrNames
    .filter((r) => `${HEAD}  <attrs>\n    <attr${xmlAttrs([['name', r.s]])}>\n      <null />\n    </attr>\n  </attrs>\n</expr>\n` !== r.value)
    .map((r) => JSON.stringify(r.s));
  assert.equal(bad, []);
});
t('several attributes come in name order', () => {
  const doc = g.documents.find((d) => d.expr.includes('@args'))!;
  assert.ok(doc.value.includes(`<attrspat${xmlAttrs([['name', 'args'], ['ellipsis', '1']])}>`));
});
t('escapeXMLAttr returns the same string when nothing needs escaping', () => {
  const s = 'plain text \t\r with bytes \xff';
  assert.is(escapeXMLAttr(s), s);
});
t.run();
