// grammar/ stays true to the parser: the productions golden and the railroad diagrams are what
// grammar/generate.ts makes from the parser now (UPDATE_GOLDEN=1 rewrites them); nix.ebnf has
// exactly one production per parser rule, with the same names; TOKENS.md lists every token
// type; the TextMate grammar is well-formed and knows the lexer's keywords.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS } from '../../grammar/generate.js';
import { NixParser } from '../../src/syntax/parser.js';
import { allTokens } from '../../src/syntax/tokens.js';
import { ROOT } from '../helpers/tools.js';

const test = suite('syntax/grammar');
const DIR = join(ROOT, 'grammar');
const update = process.env.UPDATE_GOLDEN === '1';
const ruleNames = (new NixParser(true).getSerializedGastProductions() as unknown as { name: string }[]).map((r) => r.name);

for (const [file, make] of Object.entries(ARTIFACTS)) {
  test(`grammar/${file} is up to date (node --import tsx grammar/generate.ts)`, () => {
    const path = join(DIR, file);
    const text = make();
    if (update) writeFileSync(path, text);
    assert.ok(existsSync(path), `missing ${path}`);
    assert.fixture(readFileSync(path, 'utf8'), text);
  });
}

test('nix.ebnf has one production per parser rule, with the same names', () => {
  const ebnf = readFileSync(join(DIR, 'nix.ebnf'), 'utf8').replace(/\(\*[\s\S]*?\*\)/g, '');
  const names = [...ebnf.matchAll(/^([a-zA-Z]+)\s*=/gm)].map((m) => m[1]!);
  assert.equal([...names].sort(), [...ruleNames].sort());
  assert.is(new Set(names).size, names.length, 'a production is defined twice');
});

test('TOKENS.md lists every token type', () => {
  const md = readFileSync(join(DIR, 'TOKENS.md'), 'utf8');
  for (const t of allTokens) assert.ok(md.includes(`\`${t.name}\``), `${t.name} is not in TOKENS.md`);
});

test('img.tmLanguage.json is well-formed and knows the keywords', () => {
  const g = JSON.parse(readFileSync(join(DIR, 'img.tmLanguage.json'), 'utf8')) as {
    scopeName: string;
    patterns: unknown[];
    repository: Record<string, unknown>;
  };
  assert.is(g.scopeName, 'source.img');
  const regexes: string[] = [];
  const includes: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) {
        if ((k === 'match' || k === 'begin' || k === 'end') && typeof v === 'string') regexes.push(v);
        else if (k === 'include' && typeof v === 'string') includes.push(v);
        else walk(v);
      }
    }
  };
  walk(g);
  assert.ok(regexes.length > 10);
  for (const r of regexes) new RegExp(r, 'm'); // throws on a pattern JS cannot read
  for (const i of includes) assert.ok(i.startsWith('#') && i.slice(1) in g.repository, `unresolved include ${i}`);
  const kw = new RegExp((g.repository.keyword as { patterns: { match: string }[] }).patterns[0]!.match);
  const keywords = allTokens.filter((t) => t.name.startsWith('Kw')).map((t) => String(t.PATTERN));
  assert.is(keywords.length, 10);
  for (const k of keywords) {
    assert.ok(kw.test(` ${k} `), `keyword ${k} is not highlighted`);
    assert.not.ok(kw.test(`${k}-x`), `identifier ${k}-x is highlighted as a keyword`);
  }
});

test.run();
