// The lexer and the parser are built once per process and reused; and the grammar passes
// Chevrotain's own checks (production builds skip them for start-up time, this test runs them).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NixParser } from '../../src/syntax/parser.js';
import { lexerDefinition } from '../../src/syntax/tokens.js';
import * as tokens from '../../src/syntax/tokens.js';
import * as parser from '../../src/syntax/parser.js';
import { chevrotain } from '../../src/syntax/chevrotain.js';
import { parseText } from './helpers.js';

const test = suite('syntax/singleton');

test('parsing many times builds one lexer and one parser', () => {
  assert.ok(parseText('let a = 1; in a').ok);
  const l = tokens.lexerBuilds;
  const p = parser.parserBuilds;
  assert.ok(l <= 1 && p <= 1, `built ${l} lexers and ${p} parsers`);
  for (let i = 0; i < 5; i++) {
    assert.ok(parseText(`{ x = ${i}; }`).ok);
    assert.not.ok(parseText(`{ x = ${i} }`).ok);
  }
  assert.is(tokens.lexerBuilds, 1);
  assert.is(parser.parserBuilds, 1);
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
