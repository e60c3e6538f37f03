// The lexer's longest-match decisions and modes, as Nix 2.8's flex lexer makes them: a table of
// inputs and the token types (and images) they give.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tokenize } from '../../src/syntax/tokens.js';

const test = suite('syntax/lexer');

function lex(s: string): string {
  const r = tokenize(s);
  assert.equal(r.errors, [], `lex errors for ${JSON.stringify(s)}`);
  return r.tokens.map((t) => (t.image === '' ? t.tokenType.name : `${t.tokenType.name}(${t.image})`)).join(' ');
}

const CASES: [string, string][] = [
  ['a-b', 'Identifier(a-b)'],
  ["a'", "Identifier(a')"],
  ['1/2', 'Path(1/2) PathEnd'],
  ['1 / 2', 'Int(1) Slash(/) Int(2)'],
  ['x:x', 'Uri(x:x)'],
  ['x: x', 'Identifier(x) Colon(:) Identifier(x)'],
  ['1e6', 'Int(1) Identifier(e6)'],
  ['1.5e6', 'Float(1.5e6)'],
  ['1.', 'Float(1.)'],
  ['.5', 'Float(.5)'],
  ['00.5', 'Int(00) Float(.5)'],
  ['0.5', 'Float(0.5)'],
  ['a.5', 'Identifier(a) Float(.5)'],
  ['a.b', 'Identifier(a) Dot(.) Identifier(b)'],
  ['...', 'Ellipsis(...)'],
  ['./a', 'Path(./a) PathEnd'],
  ['../a/b.nix', 'Path(../a/b.nix) PathEnd'],
  ['/a', 'Path(/a) PathEnd'],
  ['a/b', 'Path(a/b) PathEnd'],
  ['a/ b', 'Identifier(a) Slash(/) Identifier(b)'],
  ['a//b', 'Identifier(a) Update(//) Identifier(b)'],
  ['~/a', 'HPath(~/a) PathEnd'],
  ['<nixpkgs/lib>', 'SPath(<nixpkgs/lib>)'],
  ['a < b', 'Identifier(a) Lt(<) Identifier(b)'],
  ['a<=b', 'Identifier(a) Leq(<=) Identifier(b)'],
  ['./a/${x}', 'Path(./a/) DollarCurly(${) Identifier(x) RCurly(}) PathEnd'],
  ['./${x}', 'Path(./) DollarCurly(${) Identifier(x) RCurly(}) PathEnd'],
  ['/${x}', 'Path(/) DollarCurly(${) Identifier(x) RCurly(}) PathEnd'],
  ['~/${x}', 'HPath(~/) DollarCurly(${) Identifier(x) RCurly(}) PathEnd'],
  ['./a${x}b/c', 'Path(./a) DollarCurly(${) Identifier(x) RCurly(}) PathFragment(b/c) PathEnd'],
  ['./a//${x}', 'Path(./a/) PathFragment(/) DollarCurly(${) Identifier(x) RCurly(}) PathEnd'],
  ['./a;', 'Path(./a) PathEnd Semi(;)'],
  ['http://x.org/a?b=c&d', 'Uri(http://x.org/a?b=c&d)'],
  ['if-then', 'Identifier(if-then)'],
  ['inherit in', 'KwInherit(inherit) KwIn(in)'],
  ['or', 'KwOr(or)'],
  ['orx', 'Identifier(orx)'],
  ['"a${b}c"', 'StrOpen(") StrChunk(a) DollarCurly(${) Identifier(b) RCurly(}) StrChunk(c) StrClose(")'],
  ['"$${x}"', 'StrOpen(") StrChunk($${x}) StrClose(")'],
  ['"\\${x}"', 'StrOpen(") StrChunk(\\${x}) StrClose(")'],
  ['"a$"', 'StrOpen(") StrChunk(a$) StrClose(")'],
  ['"${ {a=1;}.a }"', 'StrOpen(") DollarCurly(${) LCurly({) Identifier(a) Assign(=) Int(1) Semi(;) RCurly(}) Dot(.) Identifier(a) RCurly(}) StrClose(")'],
  ["'' a ''", "IndOpen('') IndChunk( a ) IndClose('')"],
  ["''  \n a''", "IndOpen(''  \n) IndChunk( a) IndClose('')"],
  ["'' ''' ''$ ''\\n ${x} $ ' ''", "IndOpen('') IndChunk( ) IndEscQuotes(''') IndChunk( ) IndEscDollar(''$) IndChunk( ) IndEscChar(''\\n) IndChunk( ) DollarCurly(${) Identifier(x) RCurly(}) IndChunk( $ ' ) IndClose('')"],
  ["''a'$''", "IndOpen('') IndChunk(a) IndQuote(') IndDollar($) IndClose('')"],
  ['# c\n1 /* d */ 2', 'Int(1) Int(2)'],
  ['a\r\nb', 'Identifier(a) Identifier(b)'],
  ['{ } ${ }', 'LCurly({) RCurly(}) DollarCurly(${) RCurly(})'],
];

for (const [input, expected] of CASES) {
  test(JSON.stringify(input), () => assert.is(lex(input), expected));
}

test('a trailing slash is a lexical error, also after an interpolation', () => {
  for (const s of ['./a/', './a/${x}/', '~/a/']) {
    const r = tokenize(s);
    assert.ok(r.errors.some((e) => e.message === 'path has a trailing slash'), s);
  }
});

test('characters no token matches are errors with their offset', () => {
  const r = tokenize('1 % 2');
  assert.is(r.errors.length, 1);
  assert.is(r.errors[0]!.offset, 2);
});

test.run();
