// Differential tests against the real Nix 2.8 (the oracle), on deterministic pseudo-random
// inputs:
//  - operator expressions: our AST, shown in Nix's own `--parse` format, must equal what
//    `nix-instantiate --parse` prints (precedence, associativity, prefix `!`/`-`, `?`, `or`,
//    application); expressions we reject must be rejected by Nix too;
//  - indented and double-quoted strings (stripping, escapes, CR/CRLF): our literal values must
//    equal `nix-instantiate --eval --strict --json` of the same strings;
//  - mutated corpus files: we accept exactly what `nix-instantiate --parse` accepts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Expr } from '../../src/syntax/ast.js';
import { tokenize } from '../../src/syntax/tokens.js';
import { needTool, SHARED } from '../helpers/tools.js';
import { parseText } from './helpers.js';

const test = suite('syntax/nix-differential');
const NIX_ENV = { ...process.env, NIX_REMOTE: 'dummy://', HOME: '/fake-home', NIX_PATH: '' };

function nix(args: string[], input?: string): { ok: boolean; out: string; err: string } {
  try {
    const out = execFileSync('nix-instantiate', args, { env: NIX_ENV, input: input === undefined ? undefined : Buffer.from(input, 'latin1'), stdio: ['pipe', 'pipe', 'pipe'], timeout: 60000 });
    return { ok: true, out: out.toString('latin1'), err: '' };
  } catch (e) {
    const x = e as { stdout?: Buffer; stderr?: Buffer };
    return { ok: false, out: x.stdout?.toString('latin1') ?? '', err: x.stderr?.toString('latin1') ?? '' };
  }
}

/** mulberry32: a small deterministic PRNG, so every run tests the same inputs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- our AST in the format of `nix-instantiate --parse` (Nix 2.8's ExprShow) --------------------
function showString(s: string): string {
  return '"' + s.replace(/[\\"\n\r\t]|\$\{/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? '\\${') + '"';
}
function showFloat(v: number): string {
  // C++ ostream default: %g with 6 significant digits.
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  const p = Number(v.toPrecision(6));
  const e = Math.floor(Math.log10(Math.abs(p)));
  if (e < -4 || e >= 6) {
    const [m, x] = p.toExponential(5).split('e');
    const mant = m!.replace(/\.?0+$/, '');
    const n = Number(x);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  void exp;
  return String(p);
}
function showPath(path: readonly { name?: string; expr?: Expr }[]): string {
  return path.map((a) => (a.name !== undefined ? a.name : `"\${${show(a.expr!)}}"`)).join('.');
}
function show(e: Expr): string {
  switch (e.kind) {
    case 'Int':
      return String(e.value);
    case 'Float':
      return showFloat(e.value);
    case 'Str':
      return showString(e.value);
    case 'Var':
    case 'WithVar':
      return e.name;
    case 'List':
      return `[ ${e.items.map((i) => `(${show(i)}) `).join('')}]`;
    case 'Select':
      return `(${show(e.target)}).${showPath(e.path)}${e.fallback ? ` or (${show(e.fallback)})` : ''}`;
    case 'HasAttr':
      return `((${show(e.target)}) ? ${showPath(e.path)})`;
    case 'Call':
      return `(${[e.fn, ...e.args].map(show).join(' ')})`;
    case 'Lambda':
      return `(${e.arg}: ${show(e.body)})`;
    case 'Not':
      return `(! ${show(e.expr)})`;
    case 'Neg':
      return `(${e.fn.name} 0 ${show(e.expr)})`;
    case 'Arith':
      return `(${e.fn.name} ${show(e.lhs)} ${show(e.rhs)})`;
    case 'Compare': {
      const lt = e.fn.name;
      if (e.op === '<') return `(${lt} ${show(e.lhs)} ${show(e.rhs)})`;
      if (e.op === '>') return `(${lt} ${show(e.rhs)} ${show(e.lhs)})`;
      if (e.op === '<=') return `(! (${lt} ${show(e.rhs)} ${show(e.lhs)}))`;
      return `(! (${lt} ${show(e.lhs)} ${show(e.rhs)}))`;
    }
    case 'Add':
      return `(${show(e.lhs)} + ${show(e.rhs)})`;
    case 'Eq':
      return `(${show(e.lhs)} ${e.negated ? '!=' : '=='} ${show(e.rhs)})`;
    case 'And':
      return `(${show(e.lhs)} && ${show(e.rhs)})`;
    case 'Or':
      return `(${show(e.lhs)} || ${show(e.rhs)})`;
    case 'Impl':
      return `(${show(e.lhs)} -> ${show(e.rhs)})`;
    case 'Update':
      return `(${show(e.lhs)} // ${show(e.rhs)})`;
    case 'Concat':
      return `(${show(e.lhs)} ++ ${show(e.rhs)})`;
    default:
      throw new Error(`show: ${e.kind} is not covered by this test`);
  }
}

// ---- generators ------------------------------------------------------------------------------------
function operatorExpr(r: () => number, depth = 0): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const atoms = ['a', 'b', 'c', '1', '23', '1.5', '"s"', 'a.b', 'a.b.c', 'a.b or c', 'a.${b}', '[ a 1 ]', '[ ]', 'a b', 'a b c', 'a or', '0.000012345'];
  const ops = ['->', '||', '&&', '==', '!=', '<', '>', '<=', '>=', '//', '+', '-', '*', '/', '++'];
  const operand = (): string => {
    let s = depth < 2 && r() < 0.15 ? `(${operatorExpr(r, depth + 1)})` : pick(atoms);
    if (r() < 0.2) s = `${s} ? ${pick(['b', 'b.c', '"x"', '${a}'])}`;
    const pre = r();
    if (pre < 0.12) s = `!${s}`;
    else if (pre < 0.24) s = `-${s}`;
    else if (pre < 0.28) s = `- !${s}`;
    return s;
  };
  let s = operand();
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) s += ` ${pick(ops)} ${operand()}`;
  return s;
}

function indentedString(r: () => number): string {
  const pieces = ['  ', '    ', ' ', '\n', '\n', 'x', 'ab', '\t', "''$", "'''", "''\\n", "''\\t", "''\\ ", '$', "'", '${"i"}', '$$', '\r\n', '\r'];
  let s = r() < 0.7 ? "''\n" : "''";
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
  if (s.endsWith("'") || s.endsWith("''$")) s += 'x';
  return s + "''";
}

function dqString(r: () => number): string {
  const pieces = ['a', ' ', '\\n', '\\t', '\\r', '\\"', '\\\\', '\\$', '\\${x}', '$${x}', '$', '\r\n', '\r', '\n', '\\q', '${"i"}', '$\\x'];
  let s = '"';
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
  if (s.endsWith('$')) s += 'z';
  return s + '"';
}

/** The value of a string expression we lowered: its literal parts concatenated. */
function stringValue(e: Expr): string {
  if (e.kind === 'Str') return e.value;
  if (e.kind === 'Interp') return e.parts.map(stringValue).join('');
  throw new Error(`not a string: ${e.kind}`);
}

test('operator expressions: our trees equal `nix-instantiate --parse`', () => {
  if (!needTool('Nix differential test', 'nix-instantiate')) return;
  const r = rng(2808);
  const accepted: string[] = [];
  const rejected: string[] = [];
  for (let i = 0; i < 400; i++) {
    const e = operatorExpr(r);
    (parseText(`a: b: c: ${e}`).ok ? accepted : rejected).push(e);
  }
  assert.ok(accepted.length > 100 && rejected.length > 10, `${accepted.length} accepted, ${rejected.length} rejected`);
  const src = `a: b: c: [ ${accepted.map((e) => `(${e})`).join(' ')} ]`;
  const ours = parseText(src);
  assert.ok(ours.ok);
  const theirs = nix(['--parse', '-E', src]);
  assert.ok(theirs.ok, theirs.err);
  const mine = ours.ok ? show(ours.expr) : '';
  if (theirs.out.trim() !== mine) {
    // Find the first differing expression to make the failure readable.
    for (const e of accepted) {
      const one = nix(['--parse', '-E', `a: b: c: ${e}`]).out.trim();
      const p = parseText(`a: b: c: ${e}`);
      const m = p.ok ? show(p.expr) : '(rejected)';
      assert.is(m, one, `for ${e}`);
    }
  }
  assert.is(mine, theirs.out.trim());
  for (const e of rejected.slice(0, 15)) {
    assert.not.ok(nix(['--parse', '-E', `a: b: c: ${e}`]).ok, `Nix accepts ${e}, we reject it`);
  }
});

test('indented and double-quoted strings: our values equal Nix evaluation', () => {
  if (!needTool('Nix differential test', 'nix-instantiate')) return;
  const r = rng(1986);
  const srcs: string[] = [];
  for (let i = 0; i < 300; i++) srcs.push(i % 3 === 2 ? dqString(r) : indentedString(r));
  const ok: string[] = [];
  // (A generated text can end its string early, e.g. `'''''`, and become an application.)
  for (const s of srcs) {
    const p = parseText(s);
    if (p.ok && (p.expr.kind === 'Str' || p.expr.kind === 'Interp')) ok.push(s);
  }
  assert.ok(ok.length > 250, `only ${ok.length} of ${srcs.length} strings parsed`);
  const list = `[ ${ok.map((s) => `(${s})`).join('\n')} ]`;
  const theirs = nix(['--eval', '--strict', '--json', '-'], list);
  assert.ok(theirs.ok, theirs.err);
  const values = JSON.parse(theirs.out) as string[];
  const mine = ok.map((s) => {
    const p = parseText(s);
    return p.ok ? Buffer.from(stringValue(p.expr), 'latin1').toString('utf8') : '';
  });
  for (let i = 0; i < ok.length; i++) assert.is(JSON.stringify(mine[i]), JSON.stringify(values[i]), `for ${JSON.stringify(ok[i])}`);
});

test('mutated corpus files: we accept exactly what Nix accepts', () => {
  if (!needTool('Nix differential test', 'nix-instantiate')) return;
  const r = rng(42);
  const corpus = join(SHARED, 'conformance', 'nix-lang');
  const files = readdirSync(corpus).filter((f) => /^(eval|parse)-okay-.*\.nix$/.test(f)).sort();
  const snippets = ['{', '}', '(', ')', '[', ']', ';', ':', '.', ',', '@', '?', '=', '==', '!', '-', '//', '++', '->', 'or', 'let', 'in', 'rec', 'inherit', '"', "''", '${', '$', '\\', "'", '/', './a', '~/x', '<x>', 'x:x', '1.5', '.5', 'e5', ' ', '\n', '...', '#', '/*', '\r\n'];
  const dir = mkdtempSync(join(tmpdir(), 'imgeval-mut-'));
  try {
    for (let i = 0; i < 30; i++) {
      const f = files[Math.floor(r() * files.length)]!;
      let text = readFileSync(join(corpus, f)).toString('latin1').slice(0, 2000);
      const toks = tokenize(text).tokens;
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
        const at = Math.floor(r() * (text.length + 1));
        const x = r();
        if (x < 0.4 && toks.length) {
          const t = toks[Math.floor(r() * toks.length)]!;
          text = text.slice(0, t.startOffset) + text.slice(t.startOffset + t.image.length);
        } else if (x < 0.8) text = text.slice(0, at) + snippets[Math.floor(r() * snippets.length)] + text.slice(at);
        else text = text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 3));
      }
      const path = join(dir, `m${i}.nix`);
      writeFileSync(path, Buffer.from(text, 'latin1'));
      const ours = parseText(text, path, dir);
      const theirs = nix(['--parse', path]);
      assert.is(ours.ok, theirs.ok, `${f} mutated (${path}): nix ${theirs.ok ? 'accepts' : `rejects: ${theirs.err.split('\n')[0]}`}; ours ${ours.ok ? 'accepts' : `rejects: ${ours.errors[0]!.message}`}\n${text}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
