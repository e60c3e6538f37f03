// Fuzzing the evaluator (fast-check): generated well-formed expressions (literals, lists, sets,
// let/rec/with, lambdas and calls, arithmetic and comparisons, string interpolation, `//` `++`
// `?` `or`, assert, common builtins) must evaluate to a value or fail with an ImgError — never
// an internal error, never a hang — and evaluating one twice (in fresh states) prints the same
// bytes (or the same error). A sample is also checked against real Nix 2.8 in one batch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { ImgError } from '../../src/base/error.js';
import { SourceFile } from '../../src/base/source.js';
import { EvalState, printValue, type EvalHost } from '../../src/eval/index.js';
import { haveTool } from '../helpers/tools.js';

const test = suite('eval/fuzz');

const host: EvalHost = {
  readFile: (p) => {
    throw new ImgError('E_IO', `no files in the fuzzer (${p})`);
  },
  readDir: (p) => {
    throw new ImgError('E_IO', `no files in the fuzzer (${p})`);
  },
  pathType: () => undefined,
  getEnv: () => undefined,
  trace: () => {},
  cwd: () => '/fuzz',
  currentTime: () => 0,
};

type Outcome = { ok: true; out: string } | { ok: false; code: string; message: string };

function evaluate(src: string): Outcome {
  const st = new EvalState({ host });
  try {
    const v = st.evalSource(new SourceFile('(fuzz)', src, '/fuzz'));
    return { ok: true, out: printValue(v, { strict: true }) };
  } catch (e) {
    if (e instanceof ImgError) return { ok: false, code: e.code, message: e.message };
    throw new Error(`internal error on ${JSON.stringify(src)}: ${(e as Error).stack}`);
  }
}

const ident = fc.constantFrom('a', 'b', 'c', 'x', 'y');
const { expr } = fc.letrec<{ expr: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    fc.integer({ min: -20, max: 20 }).map((n) => (n < 0 ? `(${n})` : String(n))),
    fc.constantFrom('true', 'false', 'null', '1.5', '0.25', '"s"', '"a b"', '""', '[ ]', '{ }', '9223372036854775807'),
    fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s).replace(/\$/g, '\\$')),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('atom'),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `[ (${a}) (${b}) ]`),
    fc.tuple(ident, tie('expr'), tie('expr')).map(([n, a, b]) => `{ ${n} = ${a}; z = ${b}; }`),
    fc.tuple(ident, tie('expr'), tie('expr')).map(([n, a, b]) => `(let ${n} = ${a}; in ${b})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(rec { a = ${a}; b = [ a ${'(' + b + ')'} ]; }).b`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `((x: ${b}) (${a}))`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(({ a ? ${a}, ... }@args: [ a args ]) { z = ${b}; })`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `(if ${c} then ${a} else ${b})`),
    fc.tuple(fc.constantFrom('+', '-', '*', '/', '==', '!=', '<', '<=', '>', '>=', '&&', '||', '->', '//', '++'), tie('expr'), tie('expr')).map(
      ([op, a, b]) => `((${a}) ${op} (${b}))`,
    ),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `"x\${${a}}y\${toString (${b})}"`),
    fc.tuple(tie('expr'), ident, tie('expr')).map(([a, n, b]) => `((${a}).${n} or (${b}))`),
    fc.tuple(tie('expr'), ident).map(([a, n]) => `((${a}) ? ${n})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(with ${a}; ${b})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(assert ${a}; ${b})`),
    fc.tuple(
      fc.constantFrom('builtins.length', 'builtins.attrNames', 'builtins.typeOf', 'toString', 'builtins.toJSON', 'builtins.isList', 'builtins.head', 'builtins.tryEval', 'builtins.deepSeq 1'),
      tie('expr'),
    ).map(([f, a]) => `(${f} (${a}))`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(builtins.map (x: [ x (${a}) ]) [ (${b}) 1 ])`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(builtins.foldl' (acc: x: acc ++ [ x ]) [ (${a}) ] [ (${b}) ])`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(builtins.sort (p: q: builtins.lessThan p q) [ (${a}) (${b}) ])`),
  ),
}));

const MAX_MS = 2000;

test('generated expressions evaluate without internal errors or hangs, deterministically', () => {
  fc.assert(
    fc.property(expr, (src) => {
      const t0 = performance.now();
      const a = evaluate(src);
      const ms = performance.now() - t0;
      if (ms > MAX_MS) throw new Error(`evaluation took ${ms.toFixed(0)} ms: ${src}`);
      const b = evaluate(src);
      assert.equal(b, a, `two evaluations differ for ${src}`);
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 400), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
  );
});

test('a sample agrees with Nix 2.8 (values, or failing where Nix fails)', () => {
  if (!haveTool('nix-instantiate')) {
    console.log('\n  skip: differential fuzzing needs nix-instantiate');
    return;
  }
  const sample = fc.sample(expr, { numRuns: 60, seed: 4242 });
  // One nix-instantiate per case (60 cases; about 10 ms each).
  for (const src of sample) {
    const mine = evaluate(src);
    const r = spawnSync('nix-instantiate', ['--eval', '--strict', '-E', src], { env: { ...process.env, NIX_REMOTE: 'dummy://' } });
    if (r.status === 0) {
      assert.ok(mine.ok, `Nix evaluates ${src} but imgeval fails: ${mine.ok ? '' : mine.message}`);
      if (mine.ok) assert.is(mine.out + '\n', r.stdout.toString('latin1'), `output differs for ${src}`);
    } else assert.not.ok(mine.ok, `Nix fails on ${src} (${r.stderr.toString().split('\n')[0]}) but imgeval gives ${mine.ok ? mine.out : ''}`);
  }
});

test.run();
