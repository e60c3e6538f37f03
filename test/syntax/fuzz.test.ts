// Fuzzing (fast-check): thousands of random byte strings, random token soups and mutated corpus
// files (characters and tokens deleted, inserted, swapped) must only ever produce a ParseResult:
// never a thrown exception, never a hang (each parse is timed), and every error has a span.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tokenize } from '../../src/syntax/tokens.js';
import { SHARED } from '../helpers/tools.js';
import { parseText } from './helpers.js';

const test = suite('syntax/fuzz');
/** A generous bound per input (inputs are at most a few KB; a parse takes about a millisecond). */
const MAX_MS = 2000;
let slowest = 0;

function check(src: string): void {
  const t0 = performance.now();
  let r;
  try {
    r = parseText(src, '(fuzz)', '/pwd');
  } catch (e) {
    throw new Error(`parse threw on ${JSON.stringify(src.slice(0, 300))}: ${(e as Error).stack}`);
  }
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  if (ms > MAX_MS) throw new Error(`parse took ${ms.toFixed(0)} ms on ${JSON.stringify(src.slice(0, 300))}`);
  if (typeof r.ok !== 'boolean') throw new Error('not a ParseResult');
  if (!r.ok) {
    if (r.errors.length === 0) throw new Error(`rejected without errors: ${JSON.stringify(src)}`);
    for (const e of r.errors) {
      if (!e.span || e.span.start < 0 || e.span.end > src.length || e.span.start > e.span.end)
        throw new Error(`error '${e.message}' has a bad span for ${JSON.stringify(src.slice(0, 300))}`);
    }
  }
}

const corpusDir = join(SHARED, 'conformance', 'nix-lang');
const corpus = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.nix'))
  .sort()
  .map((f) => readFileSync(join(corpusDir, f)).toString('latin1').slice(0, 4000));

const PIECES = ['{', '}', '${', '(', ')', '[', ']', '"', "''", "'''", "''$", "''\\", ';', ':', '@', '?', '.', '...', ',', '=', '==', '!', '-', '+', '*', '/', '//', '++', '->', '<', '>', 'or', 'let', 'in', 'rec', 'with', 'inherit', 'if', 'then', 'else', 'assert', 'x', 'a-b', '1', '1.5', '.5', './a', '~/b', '<c>', 'd:e', '#', '/*', '*/', '\n', '\r', ' ', '\t', '\\', '$', '\x00', '\xff', 'é'];

test('random byte strings', () => {
  fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 200 }), check), {
    numRuns: 1500,
    seed: 1,
  });
});

test('random token soups', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }), fc.boolean(), (ps, spaced) => check(ps.join(spaced ? ' ' : ''))), {
    numRuns: 1500,
    seed: 2,
  });
});

test('mutated corpus files', () => {
  const mutation = fc.record({
    file: fc.nat(corpus.length - 1),
    edits: fc.array(
      fc.record({ kind: fc.nat(3), at: fc.nat(4000), len: fc.nat(6), piece: fc.constantFrom(...PIECES), other: fc.nat(4000) }),
      { minLength: 1, maxLength: 4 },
    ),
  });
  fc.assert(
    fc.property(mutation, ({ file, edits }) => {
      let text = corpus[file]!;
      for (const e of edits) {
        const toks = tokenize(text).tokens;
        const at = e.at % (text.length + 1);
        if (e.kind === 0) text = text.slice(0, at) + text.slice(at + e.len);
        else if (e.kind === 1) text = text.slice(0, at) + e.piece + text.slice(at);
        else if (toks.length > 1) {
          const a = toks[e.at % toks.length]!;
          const b = toks[e.other % toks.length]!;
          if (e.kind === 2) text = text.slice(0, a.startOffset) + text.slice(a.startOffset + a.image.length);
          else if (a.startOffset + a.image.length <= b.startOffset)
            text = text.slice(0, a.startOffset) + b.image + text.slice(a.startOffset + a.image.length, b.startOffset) + a.image + text.slice(b.startOffset + b.image.length);
        }
      }
      check(text);
    }),
    { numRuns: 1500, seed: 3 },
  );
});

test('deep nesting is an error, not a crash, and the parser still works afterwards', () => {
  for (const src of ['('.repeat(5000) + '1' + ')'.repeat(5000), '['.repeat(20000), 'x: '.repeat(20000) + 'x', '{a='.repeat(5000)]) check(src);
  assert.ok(parseText('let a = 1; in a').ok);
});

test('no input was slow', () => {
  assert.ok(slowest < MAX_MS, `slowest parse: ${slowest.toFixed(0)} ms`);
});

test.run();
