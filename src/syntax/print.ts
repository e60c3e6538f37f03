// syntax/print: prints a core AST back to Nix source that parses to the same AST (modulo spans
// and Assert.text). Every compound expression is parenthesised, so no precedence is needed;
// string parts are printed as `${"…"}` so that an Interp keeps its exact parts. Used by the
// round-trip property test and for debugging.
// Limits: a string holding a NUL byte cannot be written in Nix; paths are written as absolute
// path literals, so a path with characters outside [a-zA-Z0-9._+-/] cannot be printed.
// Never evaluates anything.

import type { AttrName, Binding, Expr } from './ast.js';

const KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit']);
const ID_RE = /^[a-zA-Z_][a-zA-Z0-9_'-]*$/;
const PATH_RE = /^(?:\/[a-zA-Z0-9._+-]+)+\/?$/;

/** A Nix string literal (byte string in, source text out). */
export function quoteString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '$' && s[i + 1] === '{') out += '\\$';
    else out += c;
  }
  return out + '"';
}

/** An attribute name as written in a binding or a select. */
export function attrNameText(name: string): string {
  return ID_RE.test(name) && !KEYWORDS.has(name) ? name : quoteString(name);
}

function pathText(p: string): string {
  if (p === '/') return '/.';
  if (!PATH_RE.test(p)) throw new Error(`internal error: path '${p}' cannot be printed as a literal`);
  return p;
}

function floatText(v: number): string {
  const s = String(v);
  if (/[.]/.test(s)) return s;
  const [mant, exp] = s.split('e');
  return `${mant}.${exp !== undefined ? `e${exp}` : ''}`;
}

function names(path: readonly AttrName[]): string {
  return path.map((a) => ('name' in a ? attrNameText(a.name) : `\${${printExpr(a.expr)}}`)).join('.');
}

function bindings(attrs: readonly Binding[]): string {
  let out = '';
  for (const b of attrs) {
    if (b.inherited) out += ` inherit ${attrNameText(b.name)};`;
    else out += ` ${attrNameText(b.name)} = ${printExpr(b.value)};`;
  }
  return out;
}

/** Nix source for an expression, fully parenthesised. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'Int':
      return String(e.value);
    case 'Float':
      return floatText(e.value);
    case 'Str':
      return quoteString(e.value);
    case 'Path':
      return pathText(e.value);
    case 'Interp': {
      if (e.parts.length === 0) return "''''";
      const parts = e.parts.map((p) => `\${${printExpr(p)}}`);
      if (e.isPath) {
        const first = e.parts[0]!;
        if (first.kind !== 'Path') throw new Error('internal error: path interpolation without a leading path');
        return `(${first.value === '/' ? '/' : pathText(first.value)}${parts.slice(1).join('')})`;
      }
      return `"${parts.join('')}"`;
    }
    case 'Var':
    case 'WithVar':
      return e.name;
    case 'CurPos':
      return '__curPos';
    case 'Select':
      return `((${printExpr(e.target)}).${names(e.path)}${e.fallback ? ` or (${printExpr(e.fallback)})` : ''})`;
    case 'HasAttr':
      return `((${printExpr(e.target)}) ? ${names(e.path)})`;
    case 'Attrs': {
      const dyn = e.dynamic.map((d) => ` \${${printExpr(d.name)}} = ${printExpr(d.value)};`).join('');
      return `${e.rec ? 'rec ' : ''}{${bindings(e.attrs)}${dyn} }`;
    }
    case 'List':
      return `[${e.items.map((i) => ` (${printExpr(i)})`).join('')} ]`;
    case 'Let':
      return `(let${bindings(e.attrs)} in ${printExpr(e.body)})`;
    case 'Lambda': {
      let head: string;
      if (!e.formals) head = e.arg!;
      else {
        const fs = e.formals.map((f) => (f.default ? `${f.name} ? ${printExpr(f.default)}` : f.name));
        if (e.ellipsis) fs.push('...');
        head = `{ ${fs.join(', ')} }${e.arg !== undefined ? ` @ ${e.arg}` : ''}`;
      }
      return `(${head}: ${printExpr(e.body)})`;
    }
    case 'Call':
      return `((${printExpr(e.fn)})${e.args.map((a) => ` (${printExpr(a)})`).join('')})`;
    case 'If':
      return `(if ${printExpr(e.cond)} then ${printExpr(e.then)} else ${printExpr(e.else)})`;
    case 'Assert':
      return `(assert ${printExpr(e.cond)}; ${printExpr(e.body)})`;
    case 'With':
      return `(with ${printExpr(e.env)}; ${printExpr(e.body)})`;
    case 'Not':
      return `(!${printExpr(e.expr)})`;
    case 'Neg':
      return `(-${printExpr(e.expr)})`;
    case 'Arith':
    case 'Compare':
      return `(${printExpr(e.lhs)} ${e.op} ${printExpr(e.rhs)})`;
    case 'Add':
      return `(${printExpr(e.lhs)} + ${printExpr(e.rhs)})`;
    case 'Eq':
      return `(${printExpr(e.lhs)} ${e.negated ? '!=' : '=='} ${printExpr(e.rhs)})`;
    case 'And':
      return `(${printExpr(e.lhs)} && ${printExpr(e.rhs)})`;
    case 'Or':
      return `(${printExpr(e.lhs)} || ${printExpr(e.rhs)})`;
    case 'Impl':
      return `(${printExpr(e.lhs)} -> ${printExpr(e.rhs)})`;
    case 'Update':
      return `(${printExpr(e.lhs)} // ${printExpr(e.rhs)})`;
    case 'Concat':
      return `(${printExpr(e.lhs)} ++ ${printExpr(e.rhs)})`;
  }
}
