// builtins.match / builtins.split semantics (src/eval/lib/regex.ts) against what Nix 2.8 answered
// for the same pattern and subject (regex.golden.json, written by gen-goldens.ts): the corpus'
// own regex calls, hand-picked edge cases (libstdc++'s POSIX quirks, brackets, classes, errors,
// the state limit) and random patterns. Plus properties that need no oracle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isImgError } from '../../src/base/error.js';
import {
  compileRegex,
  fastPathsOf,
  matchWhole,
  splitAll,
  withoutFastPaths,
  type NixRegex,
} from '../../src/eval/lib/regex.js';

interface Case {
  fn: 'match' | 'split';
  re: string;
  s: string;
  from: string;
  value?: unknown;
  error?: string;
}

const cases = JSON.parse(readFileSync(join(import.meta.dirname, 'regex.golden.json'), 'utf8')) as Case[];

function run(c: Case, nfaOnly = false): { value: unknown } | { error: string } {
  try {
    const compiled = compileRegex(c.re);
    const re = nfaOnly ? withoutFastPaths(compiled) : compiled;
    return { value: c.fn === 'match' ? matchWhole(re, c.s) : splitAll(re, c.s) };
  } catch (e) {
    if (isImgError(e)) {
      assert.is(e.code, 'E_EVAL');
      return { error: e.message };
    }
    throw e;
  }
}

const golden = suite('regex goldens');
const groups = new Map<string, Case[]>();
for (const c of cases) groups.set(c.from, [...(groups.get(c.from) ?? []), c]);
for (const [from, cs] of groups) {
  golden(`${from}: ${cs.length} cases agree with Nix 2.8`, () => {
    const bad: string[] = [];
    for (const c of cs) {
      const want = c.error !== undefined ? { error: c.error } : { value: c.value };
      for (const nfaOnly of [false, true]) {
        const got = run(c, nfaOnly);
        if (JSON.stringify(got) !== JSON.stringify(want))
          bad.push(
            `${nfaOnly ? '[nfa] ' : ''}${c.fn} ${JSON.stringify(c.re)} ${JSON.stringify(c.s)}: ` +
              `got ${JSON.stringify(got)}, Nix ${JSON.stringify(want)}`,
          );
      }
    }
    assert.equal(bad, []);
  });
}
golden('the golden covers the corpus files and enough cases', () => {
  assert.ok(cases.length > 1000);
  for (const f of ['eval-okay-regex-match.nix', 'eval-okay-regex-split.nix', 'master/eval-okay-regex-match2.nix'])
    assert.ok(groups.has(f), f);
});
golden('the JS fast paths are exercised by the goldens', () => {
  let match = 0;
  let split = 0;
  for (const c of cases) {
    if (c.error !== undefined) continue;
    const f = fastPathsOf(compileRegex(c.re));
    if (c.fn === 'match' && f.match) match++;
    if (c.fn === 'split' && f.split) split++;
  }
  assert.ok(match > 200, `match fast path used ${match} times`);
  assert.ok(split > 100, `split fast path used ${split} times`);
});
golden.run();

const props = suite('regex properties');
props('compileRegex caches per pattern', () => {
  assert.is(compileRegex('a(b)c'), compileRegex('a(b)c'));
  assert.is(compileRegex('a(b)c').groupCount, 1);
});
props('split of a string with no match is the string alone', () => {
  assert.equal(splitAll(compileRegex('x'), 'abc'), ['abc']);
});
props('split parts concatenate back to the subject (group 0 implied)', () => {
  const re = compileRegex('(b+)|(d)');
  const s = 'abbcdbe';
  const parts = splitAll(re, s);
  assert.equal(parts, ['a', ['bb', null], 'c', [null, 'd'], '', ['b', null], 'e']);
});
props('long subjects do not overflow the stack', () => {
  const s = 'a'.repeat(200000) + '.nix';
  assert.equal(matchWhole(compileRegex('(.*)\\.nix'), s), ['a'.repeat(200000)]);
  assert.equal(matchWhole(compileRegex('(a|b)*c'), 'ab'.repeat(20000)), null);
  const parts = splitAll(compileRegex(','), 'x,'.repeat(50000));
  assert.is(parts.length, 100001);
});
props('failures that take Nix exponential time are answered (viability pass)', () => {
  // libstdc++ (and V8) backtrack through 2^40 paths here; the answer is still null.
  const s = 'a'.repeat(40) + 'c';
  for (const p of ['(a|a)*b', '(a*)*b', '(a|aa)+b', 'a*a*a*a*a*a*a*a*b']) {
    const re = compileRegex(p);
    assert.is(matchWhole(re, s), null, p);
    assert.is(matchWhole(withoutFastPaths(re), s), null, p);
    assert.equal(splitAll(re, s), [s], p);
    assert.equal(splitAll(withoutFastPaths(re), s), [s], p);
  }
});
props('errors are ImgError E_EVAL with the pattern quoted', () => {
  try {
    compileRegex('(');
    assert.unreachable();
  } catch (e) {
    assert.ok(isImgError(e));
    assert.is(e.message, "invalid regular expression '('");
  }
});
props('the JS fast paths agree with the NFA on random patterns and subjects', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const atoms = ['a', 'b', '.', '[ab]', '[^b]', '(a)', '(ab)', '$', '^', '(a|b)', '(a|ab)', '(b*)'];
  const quants = ['', '', '*', '+', '?', '{2}', '{1,3}', '{0,}'];
  const pattern = (depth: number): string => {
    let p = '';
    const n = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) p += (depth > 0 && rnd() < 0.3 ? `(${pattern(depth - 1)})` : pick(atoms)) + pick(quants);
    return rnd() < 0.2 ? `${p}|${pattern(0)}` : p;
  };
  let checked = 0;
  for (let i = 0; i < 1500; i++) {
    let re: NixRegex;
    try {
      re = compileRegex(pattern(2));
    } catch {
      continue;
    }
    const f = fastPathsOf(re);
    if (!f.match && !f.split) continue;
    const slow = withoutFastPaths(re);
    for (let j = 0; j < 4; j++) {
      let s = '';
      for (let k = Math.floor(rnd() * 9); k > 0; k--) s += pick(['a', 'b', 'c']);
      if (f.match) assert.equal(matchWhole(re, s), matchWhole(slow, s), `match ${re.source} ${s}`);
      if (f.split) assert.equal(splitAll(re, s), splitAll(slow, s), `split ${re.source} ${s}`);
      checked++;
    }
  }
  assert.ok(checked > 1000, `${checked} checked`);
});
props.run();
