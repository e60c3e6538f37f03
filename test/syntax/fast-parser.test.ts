// The hand-written reader (src/syntax/fast-parser.ts) against the normative CstParser
// (src/syntax/parser.ts): on every corpus file, every test/lang case and thousands of random
// token soups and mutated corpus files, both accept the same inputs and build equal CSTs (node
// names, child keys in order, the same token objects, equal offset locations).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CstNode, IToken } from 'chevrotain';
import { readCst } from '../../src/syntax/fast-parser.js';
import { getParser } from '../../src/syntax/parser.js';
import { tokenize } from '../../src/syntax/tokens.js';
import { ROOT, SHARED } from '../helpers/tools.js';

const test = suite('syntax/fast-parser');

function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Where two CSTs differ ('' when equal). */
function diff(a: CstNode | IToken, b: CstNode | IToken, at: string): string {
  if ('image' in a || 'image' in b) return a === b ? '' : `${at}: token ${JSON.stringify((a as IToken).image)} vs ${JSON.stringify((b as IToken).image)}`;
  if (a.name !== b.name) return `${at}: node ${a.name} vs ${b.name}`;
  if (!same(a.location!.startOffset, b.location!.startOffset) || !same(a.location!.endOffset!, b.location!.endOffset!))
    return `${at}/${a.name}: location ${JSON.stringify(a.location)} vs ${JSON.stringify(b.location)}`;
  const ka = Object.keys(a.children);
  const kb = Object.keys(b.children);
  if (ka.join() !== kb.join()) return `${at}/${a.name}: keys ${ka.join()} vs ${kb.join()}`;
  for (const k of ka) {
    const xa = a.children[k]!;
    const xb = b.children[k]!;
    if (xa.length !== xb.length) return `${at}/${a.name}.${k}: ${xa.length} vs ${xb.length} children`;
    for (let i = 0; i < xa.length; i++) {
      const d = diff(xa[i]!, xb[i]!, `${at}/${a.name}.${k}[${i}]`);
      if (d) return d;
    }
  }
  return '';
}

let accepted = 0;
let rejected = 0;

function check(text: string): void {
  const lexed = tokenize(text);
  if (lexed.errors.length > 0) return;
  const fast = readCst(lexed.tokens);
  const parser = getParser();
  parser.input = lexed.tokens;
  const cst = parser.start();
  const ok = parser.errors.length === 0;
  parser.input = [];
  if (ok !== (fast !== undefined)) throw new Error(`CstParser ${ok ? 'accepts' : 'rejects'} but the reader does not: ${JSON.stringify(text.slice(0, 300))}`);
  if (!ok) {
    rejected++;
    return;
  }
  accepted++;
  const d = diff(fast!, cst, '');
  if (d) throw new Error(`CSTs differ at ${d} for ${JSON.stringify(text.slice(0, 300))}`);
}

const corpusDir = join(SHARED, 'conformance', 'nix-lang');
const files = [
  ...readdirSync(corpusDir).filter((f) => f.endsWith('.nix')).map((f) => join(corpusDir, f)),
  ...readdirSync(join(corpusDir, 'master')).filter((f) => f.endsWith('.nix')).map((f) => join(corpusDir, 'master', f)),
  ...['parse-ok', 'parse-fail', 'eval-ok', 'eval-fail'].flatMap((d) => {
    const dir = join(ROOT, 'test', 'lang', d);
    return readdirSync(dir).filter((f) => f.endsWith('.img')).map((f) => join(dir, f));
  }),
  ...readdirSync(join(ROOT, 'src', 'prelude')).filter((f) => f.endsWith('.img')).map((f) => join(ROOT, 'src', 'prelude', f)),
].sort();
const texts = files.map((f) => readFileSync(f).toString('latin1'));

test('corpus, test/lang and prelude files: same verdict, same CST', () => {
  for (const t of texts) check(t);
  assert.ok(accepted > 100, `only ${accepted} files accepted`);
  assert.ok(rejected > 10, `only ${rejected} files rejected`);
});

const PIECES = ['{', '}', '${', '(', ')', '[', ']', '"', '"a', "''", "'''", "''$", "''\\", ';', ':', '@', '?', '.', '...', ',', '=', '==', '!=', '<=', '&&', '||', '!', '-', '+', '*', '/', '//', '++', '->', '<', '>', 'or', 'let', 'in', 'rec', 'with', 'inherit', 'if', 'then', 'else', 'assert', 'x', 'a-b', '1', '1.5', './a', './a/${x}', '~/b', '<c>', 'd:e', '\n'];

test('random token soups: same verdict, same CST', () => {
  const before = accepted;
  fc.assert(fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }), (ps) => check(ps.join(' '))), { numRuns: 4000, seed: 11 });
  assert.ok(accepted > before + 50, `only ${accepted - before} soups accepted`);
});

test('mutated corpus files: same verdict, same CST', () => {
  const small = texts.filter((t) => t.length < 3000);
  fc.assert(
    fc.property(fc.nat(small.length - 1), fc.array(fc.record({ at: fc.nat(3000), len: fc.nat(4), piece: fc.constantFrom(...PIECES) }), { minLength: 1, maxLength: 3 }), (i, edits) => {
      let text = small[i]!;
      for (const e of edits) {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + e.piece + text.slice(at + e.len);
      }
      check(text);
    }),
    { numRuns: 1500, seed: 12 },
  );
});

test.run();
