// Writes the goldens of test/eval-lib/ (`<module>.golden.json`) from the real Nix 2.8: the
// cases are listed here (hand-picked, generated from a fixed seed, or extracted from the
// conformance corpus by letting Nix trace the arguments the corpus passes to a builtin), and
// every expected output is what nix-instantiate answered. Never edit a golden by hand.
//
//   node --import tsx test/eval-lib/gen-goldens.ts [module...]
//
// writes the goldens that are missing; with UPDATE_GOLDEN=1 it rewrites them all.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED } from '../helpers/tools.js';
import { evalJSONBatch, nixString, runNix } from './nix-oracle.js';

const HERE = import.meta.dirname;
const CORPUS = join(SHARED, 'conformance', 'nix-lang');

/** A small deterministic PRNG (mulberry32), so generated cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeGolden(name: string, data: unknown): void {
  const file = join(HERE, `${name}.golden.json`);
  writeFileSync(file, JSON.stringify(data, null, 1) + '\n');
  console.log(`wrote ${file}`);
}

// ---------------------------------------------------------------------------------------------
// regex: builtins.match / builtins.split

type RegexCase = { fn: 'match' | 'split'; re: string; s: string; from: string };

/** The (fn, pattern, subject) triples a corpus file passes to match/split, traced by Nix. */
function corpusRegexCases(file: string): RegexCase[] {
  const expr = `
    let
      wrap = f: p: s: builtins.trace (builtins.toJSON [ f p s ])
        ((if f == "match" then builtins.match else builtins.split) p s);
      b = builtins // { match = wrap "match"; split = wrap "split"; };
    in scopedImport { builtins = b; } ${join(CORPUS, file)}`;
  const r = runNix(expr);
  const out: RegexCase[] = [];
  for (const line of r.stderr.split('\n')) {
    if (!line.startsWith('trace: ')) continue;
    const [fn, re, s] = JSON.parse(line.slice(7)) as ['match' | 'split', string, string];
    out.push({ fn, re, s, from: file });
  }
  if (out.length === 0) throw new Error(`no regex calls traced from ${file}:\n${r.stderr}`);
  return out;
}

const HAND_REGEX: [string, string[]][] = [
  // alternation: longest of the alternatives in search mode, first found in match mode
  ['a|ab', ['a', 'ab', 'abc', 'xabx', '']],
  ['ab|a', ['a', 'ab', 'abc']],
  ['(a|ab)(c|bcd)(d*)', ['abcd', 'abcde', 'xabcdy']],
  ['(a|ab)(bcd|c)?(.*)', ['abcd', 'abcdx']],
  ['(a*)(ab)*b*', ['aabb', 'ab']],
  ['(ab|a)(bc|c)?', ['abc', 'abcabc']],
  ['x(a|ab|abc)', ['xabc', 'xab', 'xabcxa']],
  ['(a|b|c|)+', ['abcabc', '']],
  ['(|a)+', ['a', 'aa', '']],
  ['(a|)+', ['a', 'aa', '']],
  ['(a*)*', ['', 'b', 'aaa', 'aab']],
  ['(a*)+', ['', 'b', 'aaa']],
  ['(a*|b)*', ['ab', 'ba', 'aabba']],
  ['((a)|b)*', ['ab', 'ba', 'abb']],
  ['((a)|(b))*', ['ab', 'ba', 'abab']],
  ['(a(b)?)+', ['aba', 'aab', 'ab']],
  ['(a)(b)?(c)?', ['a', 'ab', 'ac', 'abc']],
  ['(a){0}b', ['b', 'ab']],
  ['((a)|b){2}', ['ab', 'ba']],
  ['(.+)+(.+)', ['17.0.14+7', 'ab']],
  ['(.*)(.*)', ['abc', '']],
  ['(.*)\\.(.*)', ['a.b.c', 'abc']],
  ['(a+)(a*)', ['aaa']],
  ['a*?', ['aaa']],
  ['a+?', ['aaa']],
  ['a**', ['aaa', '']],
  ['a{2}{3}', ['aaaaaa', 'aaaa']],
  ['a{1,2}?', ['a', 'aaa']],
  ['a{2,}', ['a', 'aa', 'aaaaa']],
  ['a{0,}', ['', 'aaa']],
  ['a{0,0}', ['', 'a']],
  ['a{3}', ['aaa', 'aa']],
  ['(ab){1,3}', ['ab', 'ababab', 'abababab', 'xababx']],
  ['a{010}', ['aaaaaaaaaa', 'aaaaaaaaa']],
  ['a{0}', ['', 'a']],
  // anchors
  ['^a', ['a', 'ba', 'aa']],
  ['a$', ['a', 'ab', 'aa']],
  ['^', ['', 'ab']],
  ['$', ['', 'ab']],
  ['^$', ['', 'a']],
  ['x^', ['x']],
  ['a$b', ['ab']],
  ['(^a)', ['a', 'aa']],
  ['(^|x)a', ['a', 'xa', 'aa', 'axa']],
  ['a(b|$)', ['ab', 'a', 'aab']],
  ['^a*', ['aab', 'baa']],
  ['b*^', ['', 'b']],
  // empty matches in split
  ['', ['', 'abc']],
  ['x*', ['', 'abc', 'xax']],
  ['(x*)', ['abc', 'xaxx']],
  ['(a*)', ['baac']],
  ['a*|b', ['abc', 'bab', 'cbc']],
  ['b|a*', ['abc', 'bab', 'cbc']],
  ['(|b)', ['abc', 'bbb']],
  ['()', ['', 'ab']],
  ['()|b', ['ab', 'bb']],
  // brackets
  ['[]a]*', [']a', 'a]b']],
  ['[^]a]*', ['bc', 'b]']],
  ['[a-]*', ['a-', '-b']],
  ['[-a]*', ['a-']],
  ['[--0]*', ['-./0', '1']],
  ['[a-c]', ['a', 'b', 'd', '-']],
  ['[[.a.]-c]', ['b', 'd']],
  ['[[.hyphen.]]', ['-', 'h']],
  ['[[.space.][.tab.]]+', [' \t ', 'a']],
  ['[[.left-square-bracket.][.right-square-bracket.]]+', ['[]', 'a']],
  ['[[=a=]]*', ['aAa', 'b']],
  ['[[=A=]]', ['a', 'A']],
  ['[[=space=]]', [' ', 'a']],
  ['[[:alpha:]]+', ['abcXYZ', 'a1', '\xc3\xa9', '\xe9']],
  ['[[:ALPHA:]]+', ['abc']],
  ['[[:Alnum:]]+', ['abc123']],
  ['[[:w:]]+', ['a_1', 'a-1']],
  ['[[:d:]]+', ['123', 'a']],
  ['[[:s:]]+', [' \t\n\r\v\f', 'a']],
  ['[[:W:]]*', ['aA_1']],
  ['[[:blank:]]+', [' \t', '\n']],
  ['[[:cntrl:]]+', ['\x01\x1f\x7f', ' ']],
  ['[[:graph:]]+', ['!~', ' ']],
  ['[[:print:]]+', [' ~', '\x7f']],
  ['[[:punct:]]+', ['!/:@[`{~', 'a']],
  ['[[:upper:]]+', ['ABC', 'abc']],
  ['[[:lower:]]+', ['abc', 'ABC']],
  ['[[:xdigit:]]+', ['09afAF', 'g']],
  ['[[:space:][:digit:]]+', [' 1 2', 'a']],
  ['[^[:space:]]+', ['abc', 'a b']],
  ['[\\]', ['\\']],
  ['[\\.]+', ['\\.', 'a']],
  ['[.]', ['.', 'a']],
  ['[$^]+', ['$^', 'a']],
  ['[[]', ['[']],
  ['[a[]+', ['a[', 'b']],
  ['[\x80-\xff]+', ['\xc3\xa9', 'a']],
  ['[^a]', ['\xe9', 'a']],
  ['.', ['\n', '\xff', '']],
  ['[a-a]', ['a']],
  // escapes
  ['\\.', ['.', 'a']],
  ['\\*', ['*']],
  ['\\{', ['{']],
  ['\\(\\)', ['()']],
  ['\\[', ['[']],
  ['\\\\', ['\\']],
  ['\\^\\$', ['^$']],
  ['\\|', ['|']],
  ['\\?\\+', ['?+']],
  ['}', ['}']],
  [']', [']']],
  ['a}', ['a}']],
  // bytes
  ['\xc3\xa9+', ['\xc3\xa9\xc3\xa9', '\xc3\xa9\xa9']],
  ['(.)(.)', ['\xc3\xa9']],
  ['\n', ['\n']],
  ['a\nb|c', ['a\nb', 'c']],
  // invalid patterns
  ['\\d', ['d']],
  ['\\]', [']']],
  ['\\}', ['}']],
  ['\\/', ['/']],
  ['\\n', ['n']],
  ['\\1', ['1']],
  ['a\\', ['a']],
  ['(.*', ['']],
  ['f(o*o', ['1foo2']],
  ['a)', ['a)']],
  [')', [')']],
  ['[', ['[']],
  ['[a', ['a']],
  ['[]', [']']],
  ['[^]', [']']],
  ['[a-c-e]', ['d']],
  ['[c-a]', ['b']],
  ['[a-\xff]', ['a']],
  ['[ -\xe9]', [' ']],
  ['[[:alpha:]-z]', ['d']],
  ['[a-[:alpha:]]', ['a']],
  ['[[:foo:]]', ['a']],
  ['[[:alpha:]', ['a']],
  ['[[:alpha]]', ['a']],
  ['[[.0.]]', ['0']],
  ['[[.ab.]]', ['a']],
  ['[[=ab=]]', ['a']],
  ['[[.a', ['a']],
  ['*a', ['a']],
  ['+a', ['a']],
  ['?', ['a']],
  ['^*', ['']],
  ['$*', ['']],
  ['a|*', ['a']],
  ['(*a)', ['a']],
  ['{1}', ['a']],
  ['a{', ['a']],
  ['a{1', ['a']],
  ['a{1,', ['a']],
  ['a{,3}', ['aa']],
  ['a{2,1}', ['a']],
  ['a{ 1}', ['a']],
  ['a{1}}', ['a}']],
  ['a{x}', ['a']],
  ['a{100000}', ['a']],
  ['(a{1000}){100}', ['a']],
  ['a{10000}', ['a']],
  ['(ab){33333}', ['ab']],
  ['(ab){33334}', ['ab']],
  ['a{49999}', ['a']],
  ['a{50000}', ['a']],
  ['a{0,49998}', ['a']],
  ['a{0,49999}', ['a']],
];

/** Random small patterns over a few atoms, and subjects over the same alphabet. */
function randomRegexCases(n: number): RegexCase[] {
  const rnd = prng(20260415);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const atoms = ['a', 'b', 'c', '.', '[ab]', '[^a]', '[[:alpha:]]', '()', '(a)', '(b)', '^', '$', '\\.'];
  const quants = ['', '', '', '*', '+', '?', '{2}', '{0,2}', '{1,}'];
  const gen = (depth: number): string => {
    const parts: string[] = [];
    const len = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < len; i++) {
      let atom = depth > 0 && rnd() < 0.3 ? `(${gen(depth - 1)})` : pick(atoms);
      if (atom !== '^' && atom !== '$') atom += pick(quants);
      parts.push(atom);
    }
    let s = parts.join('');
    if (rnd() < 0.3) s += '|' + gen(depth - 1 < 0 ? 0 : depth - 1);
    return s;
  };
  const out: RegexCase[] = [];
  for (let i = 0; i < n; i++) {
    const re = gen(2);
    const sLen = Math.floor(rnd() * 8);
    let s = '';
    for (let j = 0; j < sLen; j++) s += pick(['a', 'b', 'c', '.', 'a', 'b']);
    out.push({ fn: rnd() < 0.5 ? 'match' : 'split', re, s, from: 'random' });
  }
  return out;
}

function genRegex(): void {
  const cases: RegexCase[] = [];
  for (const f of [
    'eval-okay-regex-match.nix',
    'eval-okay-regex-split.nix',
    'master/eval-okay-regex-match.nix',
    'master/eval-okay-regex-match2.nix',
    'master/eval-okay-regex-split.nix',
    'master/eval-fail-match-3.nix',
    'master/eval-fail-split-3.nix',
  ])
    cases.push(...corpusRegexCases(f));
  for (const [re, inputs] of HAND_REGEX)
    for (const s of inputs) for (const fn of ['match', 'split'] as const) cases.push({ fn, re, s, from: 'hand' });
  cases.push(...randomRegexCases(600));
  const outcomes = evalJSONBatch(cases.map((c) => `builtins.${c.fn} ${nixString(c.re)} ${nixString(c.s)}`));
  writeGolden(
    'regex',
    cases.map((c, i) => ({ ...c, ...outcomes[i] })),
  );
}

// ---------------------------------------------------------------------------------------------
// format-number: how floats print (value printer, toString, toJSON)

/** The 16 hex digits of a double's bits. */
function floatBits(x: number): string {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0).toString(16).padStart(16, '0');
}

function fromFloatBits(hex: string): number {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, BigInt('0x' + hex));
  return v.getFloat64(0);
}

/** Doubles worth printing: boundaries of the %g forms, ties, extremes and random bit patterns. */
function floatCases(): number[] {
  const xs: number[] = [0, -0, 1, -1, 1.5, 0.1, 0.2, 0.1 + 0.2, 100, 123456789, 1e6, 1e-5, 2.5e-7];
  for (let e = -12; e <= 22; e++) {
    const p = Number(`1e${e}`);
    xs.push(p, -p, p * 1.5, p * 9.999995, p * 9.9999949, p * 0.99999949, p * 1.0000005, p * 3.3333333);
  }
  // ties at the 7th significant digit, and at the 7th decimal (toString)
  xs.push(1234565, 1234575, 123456.5, 123457.5, 999999.5, 9999995, 0.5, 2.5, 1.0000005, 0.0000005);
  xs.push(0.0000015, 0.0000025, 1e-7, 5e-7, 4.9999999e-7, 0.0000004, 12345.6789, 1e15 + 0.3);
  xs.push(Number.MAX_VALUE, Number.MIN_VALUE, 2.2250738585072014e-308, 2.225073858507201e-308);
  xs.push(Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 2 ** 64, 1e300, 1e-300, 123e-320);
  const rnd = prng(8675309);
  const v = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 600; i++) {
    v.setUint32(0, Math.floor(rnd() * 2 ** 32));
    v.setUint32(4, Math.floor(rnd() * 2 ** 32));
    const x = v.getFloat64(0);
    if (Number.isFinite(x)) xs.push(x);
  }
  // random values of moderate size, where the fixed form is readable
  for (let i = 0; i < 400; i++) {
    const x = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 24 - 10);
    xs.push(x, Math.round(x * 1e7) / 1e7, Math.round(x));
  }
  return xs;
}

/** A JSON text that strtod reads back as exactly `x` (finite). */
function jsonFloat(x: number): string {
  if (Object.is(x, -0)) return '-0.0';
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function genFormatNumber(): void {
  const xs = floatCases();
  // Finite values reach Nix through fromJSON (float literals refuse subnormals); the
  // non-finite ones through fromTOML (whose nan is quiet_NaN(), bits 7ff8000000000000) and
  // arithmetic (inf - inf is the x86 default NaN, bits fff8000000000000, as in V8).
  const finite = `builtins.fromJSON ${nixString(`[${xs.map(jsonFloat).join(',')}]`)}`;
  const special = `let t = builtins.fromTOML "i = inf\nn = nan\nm = -nan"; in
    [ t.i (-t.i) t.n t.m (t.i - t.i) ]`;
  const specialValues = [Infinity, -Infinity, fromFloatBits('7ff8000000000000'), fromFloatBits('fff8000000000000'), Infinity - Infinity];
  const all = `(${finite}) ++ (${special})`;
  const printed = runNix(all);
  if (!printed.ok) throw new Error(printed.stderr);
  const items = printed.stdout.trim().replace(/^\[ /, '').replace(/ \]$/, '').split(' ');
  const texts = evalJSONBatch([`map toString (${all})`, `map builtins.toJSON (${all})`]);
  const [toStrings, toJSONs] = texts.map((t) => {
    if (!('value' in t)) throw new Error(t.error);
    return t.value as string[];
  });
  const values = [...xs, ...specialValues];
  if (items.length !== values.length || toStrings!.length !== values.length) throw new Error('length mismatch');
  writeGolden(
    'format-number',
    values.map((x, i) => ({ bits: floatBits(x), printed: items[i], toString: toStrings![i], toJSON: toJSONs![i] })),
  );
}

// ---------------------------------------------------------------------------------------------
// json: builtins.fromJSON and the string quoting of builtins.toJSON

/**
 * A Nix function describing a value exactly as JSON: ints as decimal strings, floats by their
 * %g and %f forms, attribute sets as [name value] pairs in Nix's order.
 */
const NIX_TAG = `let tag = v: let t = builtins.typeOf v; in
      if t == "set" then { set = builtins.attrValues (builtins.mapAttrs (n: x: [ n (tag x) ]) v); }
      else if t == "list" then { list = map tag v; }
      else if t == "int" then { int = toString v; }
      else if t == "float" then { float = [ (builtins.toJSON v) (toString v) ]; }
      else if t == "string" then { string = v; }
      else if t == "bool" then { bool = v; }
      else if t == "null" then { null = true; }
      else throw "unexpected type \${t}"; in tag`;

/** The arguments a corpus file passes to `builtins.<name>`, traced by Nix (as JSON). */
function corpusArgs(file: string, name: string, walk = 'x: x'): unknown[] {
  const expr = `
    let
      walk = ${walk};
      b = builtins // { ${name} = x: builtins.trace (builtins.toJSON (walk x)) (builtins.${name} x); };
    in scopedImport { builtins = b; } ${join(CORPUS, file)}`;
  const r = runNix(expr);
  const out: unknown[] = [];
  for (const line of r.stderr.split('\n')) if (line.startsWith('trace: ')) out.push(JSON.parse(line.slice(7)));
  if (out.length === 0) throw new Error(`no ${name} calls traced from ${file}:\n${r.stderr}`);
  return out;
}

/** The strings (and attribute names) inside a value given to toJSON. */
const NIX_STRINGS_OF = `let go = v: let t = builtins.typeOf v; in
    if t == "string" then [ v ]
    else if t == "list" then builtins.concatMap go v
    else if t == "set" then
      (if v ? __toString || v ? outPath then [ ] else builtins.attrNames v ++ builtins.concatMap go (builtins.attrValues v))
    else [ ]; in go`;

function jsonTexts(): { text: string; from: string }[] {
  const out: { text: string; from: string }[] = [];
  for (const f of [
    'eval-okay-fromjson.nix',
    'eval-okay-fromjson-escapes.nix',
    'master/eval-okay-fromjson.nix',
    'master/eval-okay-fromjson-escapes.nix',
    'master/eval-fail-fromJSON-keyWithNullByte.nix',
    'master/eval-fail-fromJSON-overflowing.nix',
    'master/eval-fail-fromJSON-valueWithNullByte.nix',
  ])
    for (const text of corpusArgs(f, 'fromJSON')) out.push({ text: text as string, from: f });
  const hand: string[] = [
    // numbers
    '0', '-0', '1', '-1', '123', '00', '01', '-01', '1.0', '1.5', '-1.5', '0.5e-1', '1e2', '1E2', '1e+2', '1E-2',
    '1e', '1e+', '1.', '.5', '-', '-a', '+1', '1.5e', '0x10', 'Infinity', 'NaN', '-0.0', '0e0', '0.0e-0',
    '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
    '18446744073709551615', '18446744073709551616', '-18446744073709551616', '99999999999999999999999',
    '9007199254740991', '9007199254740993', '-9007199254740993', '1e308', '1.7976931348623157e308', '1.8e308',
    '-1e400', '1e400', '1e-400', '4.9e-324', '2.4e-324', '123456789012345678901234567890.5',
    '0.1', '0.30000000000000004', '1.23456789e-7', '[1e400]', '{"a":1e999}',
    // literals and whitespace
    'true', 'false', 'null', 'tru', 'nul', 'nulll', 'True', ' \t\r\n null \t\r\n', '\fnull', '\u00a0null',
    '', ' ', '\n', 'null null', 'null,', '[]]', '{}}', '// x\n1', '/* x */ 1', '1 // x',
    // BOM
    '\xef\xbb\xbf1', '\xef\xbb\xbf', '\xef\xbb1', '\xef1', '\xef', ' \xef\xbb\xbf1',
    // strings
    '""', '"abc"', '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u0041\\u00e9\\u20ac\\ud83d\\ude00"', '"\\uD83D\\uDE00"',
    '"\\u0000"', '"a\\u0000b"', '"\\u0001\\u001f\\u007f\\u0080"', '"\\u00"', '"\\u00g0"', '"\\uzzzz"',
    '"\\ud800"', '"\\ud800x"', '"\\ud800\\u0041"', '"\\ud800\\n"', '"\\ud800\\ud800"', '"\\udfff"', '"\\udbff\\udfff"',
    '"\\a"', '"\\x41"', '"\\U0041"', '"\\\'"', '"\\', '"abc', '"', '"a\\"',
    '"\xc3\xa9"', '"\xe2\x82\xac"', '"\xf0\x9f\x98\x80"', '"\xc3"', '"\xc3x"', '"\xc0\x80"', '"\xc1\xbf"',
    '"\xe0\x80\x80"', '"\xe0\xa0\x80"', '"\xed\xa0\x80"', '"\xed\x9f\xbf"', '"\xef\xbf\xbf"',
    '"\xf0\x80\x80\x80"', '"\xf0\x90\x80\x80"', '"\xf4\x8f\xbf\xbf"', '"\xf4\x90\x80\x80"', '"\xf5\x80\x80\x80"',
    '"\x80"', '"\xbf"', '"\xfe"', '"\xff"', '"a\xe2\x82"', '"\x7f"',
    // containers
    '[]', '{}', '[[]]', '[{}]', '{"a":[]}', '[1,2,3]', '[1,[2,[3]]]', '{"a":1,"b":{"c":[true,false,null]}}',
    '{"b":1,"a":2}', '{"a":1,"a":2}', '{"a":{"x":1},"a":{"y":2}}', '{"":1}', '{"a b":1,"ü":2}', '{"a\\u0000b":1,"a":2}',
    '[1,]', '[,1]', '[1 2]', '[1,,2]', '[', ']', '[1', '[1,', '{', '}', '{"a"', '{"a":', '{"a":1', '{"a":1,',
    '{"a":1,}', '{"a" 1}', '{"a":1 "b":2}', '{1:2}', '{a:1}', "{'a':1}", '{"a"::1}', '{,}', '{"a":1}}', '[1]]',
    '[\n  1,\n  2,\n  x\n]', '{\n"a":\n\n  tru\n}', '[1,\n2\n3]', '\n\n\n  "ab\ncd"', '[\r\n1,\r\n@]',
    '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, z]',
    '[1e5 , 2.5 , -3 , "x" , {"k" : "v"} ]',
  ];
  for (const text of hand) out.push({ text, from: 'hand' });
  // deep nesting and long inputs
  out.push({ text: '['.repeat(2000) + ']'.repeat(2000), from: 'hand' });
  out.push({ text: '{"a":'.repeat(500) + '1' + '}'.repeat(500), from: 'hand' });
  out.push({ text: '['.repeat(50) + ']'.repeat(49), from: 'hand' });
  // random documents
  const rnd = prng(4242);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const str = (): string => {
    let t = '"';
    for (let i = Math.floor(rnd() * 6); i > 0; i--)
      t += pick(['a', 'Z', ' ', '\\n', '\\"', '\\\\', '\\u00e9', '\\u2603', '\\ud83d\\ude00', '\xc3\xa9', '\\t', '/', '\\/']);
    return t + '"';
  };
  const val = (d: number): string => {
    const r = rnd();
    if (d > 0 && r < 0.2) return `[${Array.from({ length: Math.floor(rnd() * 4) }, () => val(d - 1)).join(pick([',', ' , ', ',\n']))}]`;
    if (d > 0 && r < 0.4)
      return `{${Array.from({ length: Math.floor(rnd() * 4) }, () => `${str()}:${val(d - 1)}`).join(pick([',', ' ,\n ']))}}`;
    if (r < 0.55) return str();
    if (r < 0.7) return String(Math.floor((rnd() - 0.5) * 2 ** Math.floor(rnd() * 70)));
    if (r < 0.85) return String((rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20));
    return pick(['true', 'false', 'null']);
  };
  for (let i = 0; i < 150; i++) out.push({ text: val(4), from: 'random' });
  return out;
}

function quoteCases(): { s: string; from: string }[] {
  const out: { s: string; from: string }[] = [];
  for (const f of ['eval-okay-tojson.nix', 'master/eval-okay-tojson.nix', 'master/eval-fail-toJSON-non-utf-8.nix'])
    for (const list of corpusArgs(f, 'toJSON', NIX_STRINGS_OF)) for (const s of list as string[]) out.push({ s, from: f });
  let all = '';
  for (let b = 1; b < 256; b++) {
    out.push({ s: String.fromCharCode(b), from: 'byte' });
    all += String.fromCharCode(b);
  }
  out.push({ s: all, from: 'hand' }, { s: '', from: 'hand' }, { s: 'a"b\\c\nd\re\tf${g}', from: 'hand' });
  out.push({ s: '\xc3\xa9\xe2\x82\xac \xff\xfe', from: 'hand' }, { s: '</script>', from: 'hand' });
  return out;
}

function genJson(): void {
  const texts = jsonTexts();
  const parsed = evalJSONBatch(texts.map((t) => `(${NIX_TAG}) (builtins.fromJSON ${nixString(t.text)})`));
  const quotes = quoteCases();
  const quoted = evalJSONBatch(quotes.map((q) => `builtins.toJSON ${nixString(q.s)}`));
  writeGolden('json', {
    fromJSON: texts.map((t, i) => ({ ...t, ...parsed[i] })),
    toJSON: quotes.map((q, i) => ({ ...q, ...quoted[i] })),
  });
}

// ---------------------------------------------------------------------------------------------
// toml: builtins.fromTOML

const HAND_TOML: string[] = [
  // keys
  'a = 1', 'a=1', '  a  =  1  ', 'a = 1 # c', '# only a comment', '', '\n\n', 'a = 1\n\n# c\nb = 2\n',
  'bare_key = 1\nbare-key = 2\n1234 = 3\n-_- = 4', '"quoted key" = 1', "'literal key' = 1", '"" = 1', "'' = 1",
  '"a.b" = 1', 'a.b.c = 1', 'a . b . c = 1', 'a."b.c".d = 1', '"\\u00e9" = 1', '"a\\u0000b" = 1', 'a.b = 1\na.c = 2',
  '= 1', 'a', 'a =', 'a = ', 'a b = 1', 'a.= 1', '.a = 1', 'a..b = 1', '"""a""" = 1', "'''a''' = 1", 'a = 1 b = 2',
  '\xe9 = 1', 'a = 1\na = 2', 'a = 1\n"a" = 2', 'a.b = 1\na = 2', 'a = 1\na.b = 2', 'a\t=\t1',
  // integers
  'a = 0', 'a = +0', 'a = -0', 'a = 42', 'a = +99', 'a = -17', 'a = 1_000', 'a = 5_349_221', 'a = 1_2_3',
  'a = 0xDEADBEEF', 'a = 0xdead_beef', 'a = 0o755', 'a = 0o01234567', 'a = 0b11010110', 'a = 0x0', 'a = 0b0',
  'a = 9223372036854775807', 'a = 9223372036854775808', 'a = -9223372036854775808', 'a = -9223372036854775809',
  'a = 99999999999999999999', 'a = 0xFFFFFFFFFFFFFFFF', 'a = 0x7FFFFFFFFFFFFFFF', 'a = 0o1777777777777777777777',
  'a = 01', 'a = 00', 'a = -01', 'a = 1__0', 'a = _1', 'a = 1_', 'a = +0x10', 'a = -0x10', 'a = 0X10', 'a = 0x',
  'a = 0xG', 'a = 0o8', 'a = 0b2', 'a = 0x_1', 'a = 1a', 'a = 12e', 'a = ++1', 'a = --1', 'a = 1-2',
  // floats
  'a = 1.0', 'a = +1.0', 'a = 3.1415', 'a = -0.01', 'a = 5e+22', 'a = 1e6', 'a = -2E-2', 'a = 6.626e-34',
  'a = 9_224_617.445_991_228_313', 'a = 1e06', 'a = 1e+06', 'a = 1.5e-7', 'a = 0.0', 'a = -0.0', 'a = +0.0',
  'a = 1e400', 'a = -1e400', 'a = 1e-400', 'a = 4.9e-324', 'a = 1.7976931348623157e308', 'a = 0.1', 'a = 123456789.0',
  'a = inf', 'a = +inf', 'a = -inf', 'a = nan', 'a = +nan', 'a = -nan', 'a = Inf', 'a = NaN', 'a = infinity',
  'a = 1.', 'a = .1', 'a = 1.e5', 'a = 1e', 'a = 1e+', 'a = 1.5.5', 'a = 01.5', 'a = 1_.5', 'a = 1._5', 'a = 1e_5',
  'a = 1e5_0', 'a = 00.5', 'a = -.5', 'a = 1E5',
  // booleans
  'a = true', 'a = false', 'a = TRUE', 'a = True', 'a = tru', 'a = truee', 'a = true1',
  // strings
  'a = "abc"', 'a = ""', 'a = "x\\ty"', 'a = "x\ty"', 'a = "\\b\\t\\n\\f\\r\\"\\\\"', 'a = "\\u00e9\\U0001F600"',
  'a = "\\u0000"', 'a = "a\\u0000b"', 'a = "\\ud800"', 'a = "\\U00110000"', 'a = "\\U0010FFFF"', 'a = "\\x41"',
  'a = "\\e"', 'a = "\\a"', 'a = "\\ "', 'a = "\\u12"', 'a = "\\uZZZZ"', 'a = "abc', 'a = "a\nb"', 'a = "a\rb"',
  'a = "\x01"', 'a = "\x7f"', 'a = "\xc3\xa9"', 'a = "\xe2\x82\xac"', 'a = "\xf0\x9f\x98\x80"', 'a = "\xff"',
  'a = "\xc3"', 'a = "\xed\xa0\x80"', 'a = "\xc0\x80"',
  "a = 'abc'", "a = ''", "a = 'C:\\Users\\x'", "a = '<\\i\\c*\\s*>'", "a = 'a\"b'", "a = 'x\ty'", "a = 'x\ny'",
  "a = 'x\x1fy'", "a = 'x\x7fy'", "a = '\xc3\xa9'", "a = '\xff'", "a = 'abc",
  'a = """abc"""', 'a = """\nabc"""', 'a = """\r\nabc"""', 'a = """\n\nabc"""', 'a = """a\nb\r\nc"""',
  'a = """\nfoo\\\n   bar"""', 'a = """\nfoo \\  \n\n  bar \\\n  """', 'a = """a\\\tb"""', 'a = """""x"""""',
  'a = """x""""', 'a = """x"""""', 'a = """x""""""', 'a = """a""b"""', 'a = """a"""b"""', 'a = """\\u00e9"""',
  'a = """\x01"""', 'a = """\xff"""', 'a = """abc',
  "a = '''abc'''", "a = '''\nabc'''", "a = '''\r\nabc'''", "a = '''a\nb'''", "a = '''a\\b'''", "a = '''''x'''''",
  "a = '''x''''", "a = '''a''b'''", "a = '''a'''b'''", "a = '''\x01'''", "a = '''abc",
  // arrays
  'a = []', 'a = [1]', 'a = [1,2,3]', 'a = [ 1 , 2 , 3 , ]', 'a = [1, "a", 1.5, true, [], {}]', 'a = [[1,2],[3]]',
  'a = [\n1,\n2,\n]', 'a = [ # c\n 1, # d\n 2 # e\n]', 'a = [,]', 'a = [1,,2]', 'a = [1 2]', 'a = [1', 'a = [',
  'a = [{b = 1}, {b = 2}]', 'a = [\r\n1\r\n]',
  // inline tables
  'a = {}', 'a = {b = 1}', 'a = { b = 1, c = "x" }', 'a = {b.c = 1, b.d = 2}', 'a = {b = {c = {d = 1}}}',
  'a = {b = 1,}', 'a = {b = 1, b = 2}', 'a = {\nb = 1}', 'a = {b = 1\n}', 'a = {b = 1 c = 2}', 'a = {b = 1',
  'a = {b = 1}\na.c = 2', 'a = {b = 1}\n[a]', 'a = {b = {c = 1}}\n[a.b]', 'a = {b.c = 1}\na.b.d = 2',
  // tables
  '[a]', '[a]\nb = 1', '[ a ]', '[ a . b ]', '[a.b.c]\nd = 1', '[a]\nb = 1\n[a]\nc = 2', '[a.b]\n[a]\nc = 2',
  '[a]\n[a.b]\n[a]', '[a.b]\nx = 1\n[a]\nb.y = 2', '[a]\nb.c = 1\n[a.b]\nd = 2', 'a.b = 1\n[a]\nc = 2',
  'a.b = 1\n[a.b]', 'a.b.c = 1\n[a.b]\nd = 2', '[a]\nb = 1\n[a.b]', '[a]\nb = {}\n[a.b]', '[]', '[a', '[a]b',
  '[a] # c\nb = 1', '[a]]', '[[a]', '[ [a]]', '["a b"]\nc = 1', "['a.b']\nc = 1", '[a]\n[b]\n[a.c]',
  '[x.y.z.w]\n[x]', '[a.b.c]\n[a.b]\n[a]', '[\ta\t]',
  // arrays of tables
  '[[a]]', '[[a]]\nb = 1\n[[a]]\nb = 2', '[[a]]\n[[a]]\n[[a]]', '[[a]]\nb = 1\n[a.c]\nd = 2', '[[a]]\n[[a.b]]\n[[a.b]]\n[[a]]\n[[a.b]]',
  '[[fruit]]\nname = "apple"\n[fruit.physical]\ncolor = "red"\n[[fruit.variety]]\nname = "rd"\n[[fruit]]\nname = "b"',
  'a = [1]\n[[a]]', 'a = []\n[[a]]', 'a = [{b = 1}]\n[[a]]', '[[a]]\n[a]', '[a]\n[[a]]', '[[a]]\nb = 1\na = 2',
  '[[a.b]]\n[a]\nc = 1', '[[a.b]]\n[a]\nb = 1', '[a]\nb = [1]\n[[a.b]]', '[[ a ]]', '[[a]] # c', '[[a]]]',
  // dates and times
  'a = 1979-05-27', 'a = 07:32:00', 'a = 07:32:00.999', 'a = 1979-05-27T07:32:00', 'a = 1979-05-27 07:32:00',
  'a = 1979-05-27T07:32:00Z', 'a = 1979-05-27t07:32:00z', 'a = 1979-05-27T00:32:00-07:00', 'a = 1979-05-27T00:32:00.999999+07:00',
  'a = [1979-05-27]', 'a = {b = 07:32:00}', 'x = 1\n[t]\nd = 1979-05-27', 'a = 1979-05-27 ', 'a = 1979-13-45',
  'a = 1979-05-27T25:00:00', 'a = 1979-05', 'a = 07:32', 'a = 1979-05-27T07:32',
  // whitespace, newlines, BOM, stray characters
  'a = 1\r\nb = 2\r\n', 'a = 1\rb = 2', '\xef\xbb\xbfa = 1', 'a = 1\n\xef\xbb\xbfb = 2', '# c\x1f\na = 1', '# c\x7f\na = 1',
  '# c\xff\na = 1', '# c \xc3\xa9\na = 1', '# c\ta\na = 1', 'a = 1 #\x01', 'a = 1\x0c', '\ta = 1',
  '\n\n  [a]  \n\n  b = 1  \n\n',
  // more table rules
  '[[t.a]]\nb = 1\n[t]\na.c = 2', '[a.c]\n[[a.b]]\n[a]', '[[a.b]]\n[a.c]\n[a]', '[[a.b.c]]\n[a.b]', '[[a.b.c]]\n[a]',
  '[a]\nb.c = 1\n[a.b]\nd = 2', '[a]\nb.c.d = 1\n[a.b]', '[a]\nb.c.d = 1\n[a.b.c]', 'a.b.c = 1\n[a]',
  'a.b.c = 1\n[a.b.c]', '[a.b]\nc = 1\n[a]\nd.e = 1', '[a]\nb = 1\n[c]\n[a.d]', '[[a]]\n[a.b]\nc = 1\n[a.b]',
  '[[a]]\nb.c = 1\n[a.b]', '[[a]]\n[a.b]\n[[a]]\n[a.b]', 'a = {}\n[a.b]', '[a]\nx.y = {}\n[a.x.y]',
  // date and time ranges
  'a = 1979-02-30', 'a = 1979-04-31', 'a = 2000-02-29', 'a = 1900-02-29', 'a = 1979-00-10', 'a = 1979-01-00',
  'a = 1979-12-31', 'a = 23:59:60', 'a = 23:60:00', 'a = 00:00:61', 'a = 24:00:00', 'a = 1979-05-27T07:32:00+24:00',
  'a = 1979-05-27T07:32:00+23:60', 'a = 1979-05-27T07:32:00.', 'a = 1979-05-27T', 'a = 1979-05-27X07:32:00',
  // comments and bytes
  '# \xc3\n', '# \xe2\x82\xac ok\na = 1', '# \x80\na = 1', 'a = 1 # \xff', '#\x7f', 'a = "\\u00e9" # \xc3\xa9',
];

function genToml(): void {
  const cases: { text: string; from: string }[] = [];
  for (const f of [
    'eval-okay-fromTOML.nix',
    'master/eval-okay-fromTOML.nix',
    'master/eval-okay-fromTOML-timestamps.nix',
    'master/eval-fail-fromTOML-keyWithNullByte.nix',
    'master/eval-fail-fromTOML-overflow.nix',
    'master/eval-fail-fromTOML-timestamps.nix',
    'master/eval-fail-fromTOML-underflow.nix',
    'master/eval-fail-fromTOML-valueWithNullByte.nix',
  ])
    for (const text of corpusArgs(f, 'fromTOML')) cases.push({ text: text as string, from: f });
  for (const text of HAND_TOML) cases.push({ text, from: 'hand' });
  const outcomes = evalJSONBatch(cases.map((c) => `(${NIX_TAG}) (builtins.fromTOML ${nixString(c.text)})`));
  writeGolden(
    'toml',
    cases.map((c, i) => ({ ...c, ...outcomes[i] })),
  );
}

// ---------------------------------------------------------------------------------------------
// versions: splitVersion, compareVersions, parseDrvName

/** The argument lists a corpus file passes to a two-argument builtin, traced by Nix. */
function corpusArgs2(file: string, name: string): [string, string][] {
  const expr = `
    let b = builtins // { ${name} = x: y: builtins.trace (builtins.toJSON [ x y ]) (builtins.${name} x y); };
    in scopedImport { builtins = b; } ${join(CORPUS, file)}`;
  const r = runNix(expr);
  const out: [string, string][] = [];
  for (const line of r.stderr.split('\n')) if (line.startsWith('trace: ')) out.push(JSON.parse(line.slice(7)) as [string, string]);
  if (out.length === 0) throw new Error(`no ${name} calls traced from ${file}:\n${r.stderr}`);
  return out;
}

function versionStrings(): string[] {
  const hand = [
    '', '1', '1.0', '1.0.0', '1.0.1', '1.1', '2', '10', '01', '1.01', '1.001', '1.10', '2.3', '2.3a', '2.3c', '2.3q', '2.3.1',
    '2.3pre1', '2.3pre3', '2.3pre12', '2.3-pre', '2.3pre', 'pre', 'pre1', '1pre', '1.0pre', '1.0rc1', '1.0-rc1', '1.0a',
    '1.0b', '1.0alpha', '1.0beta', '1.0-beta2', '1.0.beta', 'a', 'b', 'A', 'Z', '_', '1_0', '1.0_1', 'x86_64', '1..2',
    '1--2', '.1', '-1', '1.', '1-', '...', '---', '.-.', '2147483647', '2147483648', '99999999999', '1.2147483648',
    '1.99999999999', '0', '00', '000', '0.0', '0-0', 'unstable-2020-01-01', '2020-01-01', '1.2.3pre4-5', 'git', '1.0git',
    '1.0-git', '\xc3\xa9', '1.\xc3\xa9', '1\xe9', '1 2', '1+2', '1~2', '1:2', '1/2', 'pre.1', 'prea', 'pre-pre', 'pree',
  ];
  const rnd = prng(271828);
  const parts = ['0', '1', '2', '10', '01', 'pre', 'rc', 'a', 'beta', '', '2147483648'];
  const seps = ['.', '-', '', '.'];
  for (let i = 0; i < 40; i++) {
    let v = '';
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) v += parts[Math.floor(rnd() * parts.length)]! + seps[Math.floor(rnd() * seps.length)]!;
    hand.push(v);
  }
  return [...new Set(hand)];
}

function genVersions(): void {
  const versions = versionStrings();
  const corpusPairs: { a: string; b: string; from: string }[] = [];
  for (const f of ['eval-okay-versions.nix', 'master/eval-okay-versions.nix'])
    for (const [a, b] of corpusArgs2(f, 'compareVersions')) corpusPairs.push({ a, b, from: f });
  const drvNames = [
    ...versions,
    'hello-1.0.2', 'hello', '915resolution-0.5.2', 'xf86-video-i810-1.7.4', 'foo-bar-1.2-beta', 'a-b', 'a-', '-a', '-1',
    'a-1', 'a--1', 'a-.1', 'a-_1', 'a-B', 'a-\xc3\xa9', 'a-\xff', 'a- 1', 'a-b-c-d', 'nix-2.8.0pre20220412_abc',
  ];
  const outcomes = evalJSONBatch([
    `map builtins.splitVersion ${nixList(versions)}`,
    `let vs = ${nixList(versions)}; in map (a: map (b: builtins.compareVersions a b) vs) vs`,
    `map (p: builtins.compareVersions (builtins.elemAt p 0) (builtins.elemAt p 1)) [ ${corpusPairs.map((p) => `[ ${nixString(p.a)} ${nixString(p.b)} ]`).join(' ')} ]`,
    `map builtins.parseDrvName ${nixList(drvNames)}`,
  ]);
  const [split, matrix, corpus, drv] = outcomes.map((o) => {
    if (!('value' in o)) throw new Error(o.error);
    return o.value;
  }) as [string[][], number[][], number[], { name: string; version: string }[]];
  writeGolden('versions', {
    versions,
    splitVersion: split,
    compareVersions: matrix,
    corpusCompare: corpusPairs.map((p, i) => ({ ...p, value: corpus[i] })),
    parseDrvName: drvNames.map((s, i) => ({ s, ...drv[i]! })),
  });
}

const nixList = (xs: string[]): string => `[ ${xs.map(nixString).join(' ')} ]`;

// ---------------------------------------------------------------------------------------------
// paths: canonPath (through toPath and path + string), baseNameOf, dirOf

function pathStrings(): string[] {
  const xs = [
    '', '/', '//', '///', 'a', 'a/', 'a//', '/a', '/a/', '/a//', '//a', 'a/b', 'a/b/', '/a/b', '/a/b/', '/a//b',
    '.', '..', './', '../', '/.', '/..', '/./', '/../', '/../a', '/a/..', '/a/../', '/a/../..', '/a/b/..', '/a/b/../..',
    '/a/./b', '/a/.', '/a/./', '/./a', '/.hidden', '/a/.b', '/a/..b', '/a/b..', '/a/...', '/.../a', '/a/./../b/./c/..',
    '///a///b///', 'a/./b', 'a/../b', '../a', './a', '/a/b/c/d/e/../../f', '/\xc3\xa9/x', '/a b/c d', '/a\\b', '/a\nb',
    '/nix/store/abc-foo/bin/', '/nix/store/abc-foo', 'foo.tar.gz', '/x/foo.tar.gz', '/x/.', '/x/..', 'x/..', 'x/.',
    '/a/b/./', '/a/b//.', '/a/b/.//', '/a/b/..//', '//../..//a',
  ];
  return [...new Set(xs)];
}

function genPaths(): void {
  const xs = pathStrings();
  const abs = xs.filter((p) => p.startsWith('/'));
  const outcomes = evalJSONBatch([
    `map builtins.toPath ${nixList(abs)}`,
    `map (p: toString (/. + p)) ${nixList(xs)}`,
    `map baseNameOf ${nixList(xs)}`,
    `map dirOf ${nixList(xs)}`,
    `map (p: baseNameOf (/. + p)) ${nixList(xs)}`,
    `map (p: toString (dirOf (/. + p))) ${nixList(xs)}`,
    `map (p: builtins.typeOf (dirOf (/. + p))) ${nixList(xs)}`,
  ]);
  const [toPath, plus, base, dir, basePath, dirPath, dirPathType] = outcomes.map((o) => {
    if (!('value' in o)) throw new Error(o.error);
    return o.value as string[];
  });
  writeGolden('paths', {
    canonPath: abs.map((p, i) => ({ p, value: toPath![i] })),
    pathPlus: xs.map((p, i) => ({ p, value: plus![i] })),
    baseNameOf: xs.map((p, i) => ({ p, value: base![i] })),
    dirOf: xs.map((p, i) => ({ p, value: dir![i] })),
    baseNameOfPath: xs.map((p, i) => ({ p, value: basePath![i] })),
    dirOfPath: xs.map((p, i) => ({ p, value: dirPath![i], type: dirPathType![i] })),
  });
}

// ---------------------------------------------------------------------------------------------
// xml: attribute escaping of toXML

function genXml(): void {
  const strings: { s: string; from: string }[] = [];
  for (const f of ['eval-okay-toxml.nix', 'eval-okay-toxml2.nix', 'master/eval-okay-toxml.nix', 'master/eval-okay-toxml2.nix'])
    for (const list of corpusArgs(f, 'toXML', NIX_STRINGS_OF)) for (const s of list as string[]) strings.push({ s, from: f });
  let all = '';
  for (let b = 1; b < 256; b++) {
    strings.push({ s: String.fromCharCode(b), from: 'byte' });
    all += String.fromCharCode(b);
  }
  strings.push({ s: all, from: 'hand' }, { s: '', from: 'hand' }, { s: 'a "b" <c> & d\ne\r\nf\tg', from: 'hand' });
  strings.push({ s: '&amp; &#xA; ]]> <!-- x -->', from: 'hand' }, { s: '\xc3\xa9\xe2\x82\xac\xff', from: 'hand' });
  const outcomes = evalJSONBatch(strings.map((c) => `builtins.toXML ${nixString(c.s)}`));
  const names = evalJSONBatch(strings.map((c) => `builtins.toXML { ${nixString(c.s)} = null; }`));
  const wholes = [
    'builtins.toXML ({ a ? 1, b, ... }@args: a)',
    'builtins.toXML ({ a ? 1, b }: a)',
    'builtins.toXML (x: x)',
    'builtins.toXML [ 1 1.5 true null "s" { } [ ] ]',
  ];
  const whole = evalJSONBatch(wholes);
  writeGolden('xml', {
    attrValues: strings.map((c, i) => ({ ...c, ...outcomes[i] })),
    attrNames: strings.map((c, i) => ({ ...c, ...names[i] })),
    documents: wholes.map((expr, i) => ({ expr, ...whole[i] })),
  });
}

// ---------------------------------------------------------------------------------------------

const GENERATORS: Record<string, () => void> = {
  regex: genRegex,
  'format-number': genFormatNumber,
  json: genJson,
  toml: genToml,
  versions: genVersions,
  paths: genPaths,
  xml: genXml,
};

const wanted = process.argv.slice(2);
for (const [name, gen] of Object.entries(GENERATORS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  if (process.env.UPDATE_GOLDEN !== '1' && existsSync(join(HERE, `${name}.golden.json`))) {
    console.log(`${name}.golden.json exists (UPDATE_GOLDEN=1 to rewrite)`);
    continue;
  }
  gen();
}

