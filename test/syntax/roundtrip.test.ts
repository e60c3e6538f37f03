// Property test (fast-check): for random valid programs, printing the AST back to source
// (src/syntax/print.ts) and parsing that again gives the same AST, spans aside. The programs are
// built from random "recipes" rendered with a scope, so that every variable is bound.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { printExpr } from '../../src/syntax/print.js';
import { parseText, stripSpans } from './helpers.js';

const test = suite('syntax/roundtrip');

interface Recipe {
  k: number;
  n: number;
  s: string;
  kids: Recipe[];
}

const leafChars = fc.constantFrom('a', 'b', ' ', '\n', '"', '\\', '$', '{', '}', "'", 'é', '\t', 'x', '/');
const recipe: fc.Arbitrary<Recipe> = fc.letrec<{ r: Recipe }>((tie) => ({
  r: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'recipe' },
    fc.record({ k: fc.nat(40), n: fc.nat(1_000_000), s: fc.string({ unit: leafChars, maxLength: 8 }), kids: fc.constant([] as Recipe[]) }),
    fc.record({
      k: fc.nat(40),
      n: fc.nat(1_000_000),
      s: fc.string({ unit: leafChars, maxLength: 8 }),
      kids: fc.array(tie('r'), { minLength: 1, maxLength: 3, depthIdentifier: 'recipe' }),
    }),
  ),
})).r;

const GLOBALS = ['map', 'true', 'false', 'null', 'builtins', 'toString'];

function ident(n: number): string {
  return ['a', 'b', 'c', 'x', 'y', 'or-else', "f'", '_z'][n % 8]!;
}

function escapeDq(s: string): string {
  return s.replace(/[\\"]|\$\{/g, (c) => (c === '${' ? '\\${' : `\\${c}`));
}

/** Renders a recipe to source text; `scope` holds the names bound at this point. */
function render(r: Recipe, scope: string[], depth = 0): string {
  const kid = (i: number, sc = scope) => (r.kids[i] ? render(r.kids[i]!, sc, depth + 1) : String(r.n % 7));
  const atom = (i: number, sc = scope) => `(${kid(i, sc)})`;
  const v = () => scope[r.n % scope.length]!;
  const op = (ops: string[]) => ops[r.n % ops.length]!;
  switch (r.k % 28) {
    case 0:
      return String(r.n);
    case 1:
      return `${r.n % 1000}.${r.n % 97}`;
    case 2:
      return v();
    case 3:
      return `"${escapeDq(r.s)}${r.kids.length ? `\${${kid(0)}}` : ''}${escapeDq(r.s.slice(1))}"`;
    case 4: {
      const body = r.s.replace(/''/g, "'x").replace(/'$/, 'q').replace(/\$\{/g, '$x');
      return `''\n  ${body}${r.kids.length ? `\${${kid(0)}}` : ''}\n  ''`;
    }
    case 5:
      return r.kids.length ? `./p-${r.n % 10}/\${${kid(0)}}` : op(['./a/b', '../c', '/abs/d', 'rel/e', '~/h']);
    case 6: {
      const names = r.kids.slice(0, 2).map((_, i) => ident(r.n + i));
      const inner = [...scope, ...names];
      const binds = names.map((nm, i) => `${nm} = ${kid(i, inner)};`).join(' ');
      return `let ${binds} ${r.n % 2 ? `inherit ${v()};` : ''} in ${kid(2, inner)}`;
    }
    case 7: {
      const rec = r.n % 2 === 0;
      const names = r.kids.map((_, i) => ident(r.n + i * 3));
      const uniq = [...new Set(names)];
      const inner = rec ? [...scope, ...uniq, 'q'] : scope;
      const binds = uniq.map((nm, i) => `${nm}.q = ${kid(i, inner)};`).join(' ');
      const dyn = r.n % 3 === 0 ? ` \${${atom(0)}} = 1; "s${r.n % 5}" = 2;` : '';
      return `${rec ? 'rec ' : ''}{ ${binds}${dyn} q = 0; }`;
    }
    case 8: {
      const arg = ident(r.n);
      return `${arg}: ${kid(0, [...scope, arg])}`;
    }
    case 9: {
      const fs = [...new Set(r.kids.slice(0, 2).map((_, i) => ident(r.n + i)))];
      const inner = [...scope, ...fs, 'args'];
      const list = fs.map((f, i) => (i === 0 && r.n % 2 ? `${f} ? ${kid(i, inner)}` : f));
      if (r.n % 3 === 0) list.push('...');
      return `{ ${list.join(', ')} }${r.n % 2 ? ' @ args' : ''}: ${kid(2, r.n % 2 ? inner : [...scope, ...fs])}`;
    }
    case 10:
      return `${atom(0)} ${op(['+', '-', '*', '/', '++', '//', '&&', '||', '->'])} ${atom(1)}`;
    case 11:
      return `${atom(0)} ${op(['==', '!=', '<', '>', '<=', '>='])} ${atom(1)}`;
    case 12:
      return `${op(['!', '-'])}${atom(0)}`;
    case 13:
      return `${atom(0)}.${op(['a', '"b c"', 'or', '${"d"}', '${x0}'].map((p) => (p === '${x0}' ? `\${${v()}}` : p)))}${r.n % 2 ? ` or ${atom(1)}` : ''}`;
    case 14:
      return `${atom(0)} ? ${op(['a', 'a.b', '"c"', `\${${v()}}`])}`;
    case 15:
      return `${atom(0)} ${atom(1)} ${atom(2)}`;
    case 16:
      return `if ${kid(0)} then ${kid(1)} else ${kid(2)}`;
    case 17:
      return `with ${atom(0)}; ${kid(1, [...scope])}`;
    case 18:
      return `assert ${kid(0)}; ${kid(1)}`;
    case 19:
      return `[ ${r.kids.map((_, i) => atom(i)).join(' ')} ]`;
    case 20:
      return `let { body = ${kid(0, [...scope, 'body'])}; }`;
    case 21:
      return op(['__curPos', '<nixpkgs/lib>', 'http://example.org/?a=b', 'x:y']);
    case 22:
      return `${atom(0)} + ${atom(1)} * ${atom(2)} - -${atom(0)}`;
    case 23:
      return `!${atom(0)} || ${atom(1)} && ${atom(2)} -> ${atom(0)}`;
    case 24:
      return `${atom(0)}.a.b or ${atom(1)}`;
    case 25: {
      const nm = ident(r.n);
      return `{ inherit ${v()}; inherit (${kid(0)}) ${nm}; }`;
    }
    case 26:
      return String(BigInt(r.n) * 9_000_000_000_000n);
    default:
      return `(${kid(0)})`;
  }
}

test('print(parse(src)) parses to the same AST', () => {
  fc.assert(
    fc.property(recipe, (r) => {
      const src = render(r, [...GLOBALS]);
      const first = parseText(src, '(string)', '/pwd');
      if (!first.ok) throw new Error(`generated program does not parse:\n${src}\n${first.errors.map((e) => e.message).join('\n')}`);
      const printed = printExpr(first.expr);
      const second = parseText(printed, '(string)', '/pwd');
      if (!second.ok) throw new Error(`printed program does not parse:\n${printed}\n${second.errors.map((e) => e.message).join('\n')}`);
      assert.equal(stripSpans(second.expr), stripSpans(first.expr), `source: ${src}\nprinted: ${printed}`);
    }),
    { numRuns: 600, seed: 20220419 },
  );
});

test('printing is a fixed point after one round', () => {
  const src = 'let a = 1; f = { x ? a, ... }@args: x; in [ (f { }) (-a) (!true) ({ b.c = a; }.b.c or 2) "s${toString a}" ./x ]';
  const first = parseText(src);
  assert.ok(first.ok);
  if (!first.ok) return;
  const p1 = printExpr(first.expr);
  const second = parseText(p1);
  assert.ok(second.ok);
  if (second.ok) assert.is(printExpr(second.expr), p1);
});

test.run();
