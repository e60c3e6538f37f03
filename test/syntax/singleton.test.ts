// The lexer and the parser are built once per process and reused; and the grammar passes
// Chevrotain's own checks (production builds skip them for start-up time, this test runs them).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NixParser } from '../../src/syntax/parser.js';
import { lexerDefinition } from '../../src/syntax/tokens.js';
import * as tokens from '../../src/syntax/tokens.js';
import * as parser from '../../src/syntax/parser.js';
import { chevrotain } from '../../src/syntax/chevrotain.js';
import { execFileSync } from 'node:child_process';
import { ROOT } from '../helpers/tools.js';
import { parseText } from './helpers.js';

const test = suite('syntax/singleton');

test('parsing many times builds no new lexer or parser', () => {
  assert.ok(parseText('let a = 1; in a').ok);
  const l = tokens.lexerBuilds;
  const p = parser.parserBuilds;
  assert.ok(l >= 1 && p >= 1);
  for (let i = 0; i < 5; i++) {
    assert.ok(parseText(`{ x = ${i}; }`).ok);
    assert.not.ok(parseText(`{ x = ${i} }`).ok);
  }
  assert.is(tokens.lexerBuilds, l);
  assert.is(parser.parserBuilds, p);
});

test('a fresh process builds exactly one lexer and one parser for several parses', () => {
  const script = [
    "import { parse } from './src/syntax/parse.js';",
    "import { SourceFile } from './src/base/source.js';",
    "import { lexerBuilds } from './src/syntax/tokens.js';",
    "import { parserBuilds } from './src/syntax/parser.js';",
    "for (const t of ['1', 'x: x', '{ a = }']) parse(new SourceFile('t', t, '/'), { scopes: [[]] });",
    'console.log(lexerBuilds, parserBuilds);',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT }).toString().trim();
  assert.is(out, '1 1');
});

test('the grammar passes Chevrotain validation', () => {
  // Throws on left recursion, ambiguities not declared, unreachable alternatives, etc.
  new NixParser(true);
});

test('the lexer definition passes Chevrotain validation', () => {
  const lexer = new chevrotain.Lexer(lexerDefinition, { positionTracking: 'onlyOffset', ensureOptimizations: false, skipValidations: false });
  assert.ok(lexer.lexerDefinitionErrors.length === 0, lexer.lexerDefinitionErrors.map((e) => e.message).join('\n'));
});

test.run();
