// syntax/lower: turns the parser's CST into the core AST (src/syntax/ast.ts) and resolves every
// variable statically, in one pass per expression: attribute paths are merged as Nix 2.8's
// addAttr does (before any name is resolved, so merged values see the scope they end up in),
// operator sequences are arranged by precedence climbing (Nix 2.8's bison precedences) into
// their desugared forms with the resolved `__sub`/`__mul`/`__div`/`__lessThan`,
// strings are unescaped and indented strings stripped, paths made absolute.
// Collects every user error (undefined variables, duplicates, bad literals) instead of throwing;
// never evaluates anything.

import type { CstNode, IToken } from 'chevrotain';
import { ImgError } from '../base/error.js';
import { formatLocation, type SourceFile, type Span } from '../base/source.js';
import type * as A from './ast.js';
import { absPath, parseFloatLiteral, parseIntLiteral, stripIndentation, unescapeString, type IndPiece } from './literals.js';

// ---- scopes -----------------------------------------------------------------------------------

/** A compile-time Env: names → slots, or a `with` (no names). */
interface Scope {
  readonly parent: Scope | undefined;
  readonly names: Map<string, number> | undefined;
  readonly global: boolean;
}

/** The name → slot maps of the outer scopes, built once per names array (the globals). */
const outerScopeMaps = new WeakMap<readonly string[], Map<string, number>>();

function envScope(parent: Scope | undefined, names: Iterable<string>, global = false): Scope {
  const m = new Map<string, number>();
  let i = 0;
  for (const n of names) {
    if (!m.has(n)) m.set(n, i);
    i++;
  }
  return { parent, names: m, global };
}

// ---- operator precedence (Nix 2.8's bison table; higher binds tighter) ---------------------------

const PREC_EQ = 4;
const PREC_CMP = 5;
const PREC_NOT = 7;
const PREC_HAS = 11;
const PREC_NEG = 12;
const BINARY_PREC: Record<string, number> = {
  '->': 1,
  '||': 2,
  '&&': 3,
  '==': PREC_EQ,
  '!=': PREC_EQ,
  '<': PREC_CMP,
  '>': PREC_CMP,
  '<=': PREC_CMP,
  '>=': PREC_CMP,
  '//': 6,
  '+': 8,
  '-': 8,
  '*': 9,
  '/': 9,
  '++': 10,
};
const RIGHT_ASSOC = new Set(['->', '//', '++']);

type OpItem = { t: 'prefix'; tok: IToken } | { t: 'atom'; node: CstNode } | { t: 'bin'; tok: IToken } | { t: 'has'; path: CstNode };

// ---- CST helpers ------------------------------------------------------------------------------

type Child = CstNode | IToken;

function isToken(c: Child): c is IToken {
  return (c as IToken).image !== undefined;
}
function nodes(n: CstNode, key: string): CstNode[] {
  return (n.children[key] as CstNode[] | undefined) ?? [];
}
function node(n: CstNode, key: string): CstNode | undefined {
  return (n.children[key] as CstNode[] | undefined)?.[0];
}
function tokens(n: CstNode, key: string): IToken[] {
  return (n.children[key] as IToken[] | undefined) ?? [];
}
function token(n: CstNode, key: string): IToken | undefined {
  return (n.children[key] as IToken[] | undefined)?.[0];
}
function startOf(c: Child): number {
  return isToken(c) ? c.startOffset : c.location!.startOffset;
}
const ATOM_KEYS = ['Identifier', 'string', 'Int', 'attrs', 'list', 'parens', 'path', 'indString', 'Float', 'recAttrs', 'Uri', 'SPath', 'legacyLet'] as const;

/** The CST key of the simple expression a selectExpr starts with. */
function atomKey(sel: CstNode): (typeof ATOM_KEYS)[number] {
  const ch = sel.children;
  for (const k of ATOM_KEYS) if (ch[k] !== undefined) return k;
  throw new Error('internal error: selectExpr without a simple expression');
}

/** The selectExpr an expr consists of, when it is just one, with no operator or selection. */
function soleSelect(expr: CstNode): CstNode | undefined {
  const ch = expr.children;
  const ops = ch.operand;
  if (!ops || ops.length !== 1 || ch.attrpath) return undefined;
  const o = (ops[0] as CstNode).children;
  if (o.Bang || o.Minus || o.selectExpr!.length !== 1) return undefined;
  const sel = o.selectExpr![0] as CstNode;
  return sel.children.Dot || sel.children.KwOr ? undefined : sel;
}

/** All children of `n` in source order. */
function ordered(n: CstNode, keys?: readonly string[]): Child[] {
  let only: Child[] | undefined;
  let all: Child[] | undefined;
  for (const k in n.children) {
    if (keys && !keys.includes(k)) continue;
    const v = n.children[k] as Child[];
    if (!only) only = v;
    else (all ??= [...only]).push(...v);
  }
  if (!all) return only ?? []; // one kind of child: already in source order
  return all.sort((a, b) => startOf(a) - startOf(b));
}

// ---- attribute collection (before resolution) ---------------------------------------------------

/** An attribute name: static, or an expression (an `attrName` CST node holding a string or `${}`). */
type NameItem = { name: string; span: Span } | { dyn: CstNode; span: Span };

type PreValue =
  | { kind: 'expr'; node: CstNode }
  | { kind: 'attrs'; attrs: PreAttrs }
  | { kind: 'inherit'; name: string; span: Span }
  | { kind: 'inheritFrom'; from: FromHolder; name: string; span: Span };

interface FromHolder {
  node: CstNode;
  lowered?: A.Expr;
}

interface PreDef {
  name: string;
  span: Span;
  inherited: boolean;
  value: PreValue;
  /** A lambda value gets this name (Nix's setName). */
  named: boolean;
}
interface PreDyn {
  name: NameItem & { dyn: CstNode };
  value: PreValue;
  span: Span;
}
interface PreAttrs {
  rec: boolean;
  span: Span;
  attrs: Map<string, PreDef>;
  dynamic: PreDyn[];
}

export interface LowerOptions {
  scopes: readonly (readonly string[])[];
  home: string;
}

export class Lowerer {
  readonly errors: ImgError[] = [];
  private readonly top: Scope;

  constructor(
    private readonly file: SourceFile,
    private readonly opts: LowerOptions,
  ) {
    let s: Scope | undefined;
    opts.scopes.forEach((names, i) => {
      let m = outerScopeMaps.get(names);
      if (!m) outerScopeMaps.set(names, (m = envScope(undefined, names).names!));
      s = { parent: s, names: m, global: i === 0 };
    });
    this.top = s ?? envScope(undefined, [], true);
  }

  lowerStart(start: CstNode): A.Expr {
    return this.expr(node(start, 'expr')!, this.top);
  }

  // ---- spans and errors -------------------------------------------------------------------------
  private span(c: Child): Span {
    if (isToken(c)) return { file: this.file, start: c.startOffset, end: c.startOffset + c.image.length };
    const l = c.location!;
    return { file: this.file, start: l.startOffset, end: Math.max(l.startOffset, (l.endOffset ?? l.startOffset) + 1) };
  }
  private join(a: Span, b: Span): Span {
    return { file: this.file, start: a.start, end: Math.max(a.end, b.end) };
  }
  private error(code: string, message: string, span: Span, notes: ImgError['notes'] = []): void {
    this.errors.push(new ImgError(code, message, span, notes));
  }

  // ---- variables ----------------------------------------------------------------------------------
  private resolve(name: string, span: Span, scope: Scope): A.Var | A.WithVar {
    let level = 0;
    let withLevels: number[] | undefined;
    for (let s: Scope | undefined = scope; s; s = s.parent, level++) {
      if (!s.names) {
        (withLevels ??= []).push(level);
        continue;
      }
      const slot = s.names.get(name);
      if (slot !== undefined) return { kind: 'Var', span, name, level, slot, global: s.global };
    }
    if (withLevels) return { kind: 'WithVar', span, name, withLevels };
    this.error('E_UNDEFINED_VAR', `undefined variable '${name}'`, span);
    return { kind: 'Var', span, name, level: -1, slot: -1, global: false };
  }

  // ---- expressions ------------------------------------------------------------------------------
  expr(n: CstNode, scope: Scope): A.Expr {
    const ch = n.children;
    if (ch.operand) return this.opExpr(n, scope);
    const c = (ch.lambda ?? ch.assertExpr ?? ch.withExpr ?? ch.letExpr ?? ch.ifExpr)![0] as CstNode;
    switch (c.name) {
      case 'lambda':
        return this.lambda(c!, scope);
      case 'assertExpr': {
        const [cond, body] = nodes(c!, 'expr');
        const cs = this.span(cond!);
        return {
          kind: 'Assert',
          span: this.span(c!),
          cond: this.expr(cond!, scope),
          body: this.expr(body!, scope),
          text: this.file.text.slice(cs.start, cs.end),
        };
      }
      case 'withExpr': {
        const [env, body] = nodes(c!, 'expr');
        const inner: Scope = { parent: scope, names: undefined, global: false };
        return { kind: 'With', span: this.span(c!), env: this.expr(env!, scope), body: this.expr(body!, inner) };
      }
      case 'letExpr':
        return this.letExpr(c!, scope);
      case 'ifExpr': {
        const [a, b, d] = nodes(c!, 'expr');
        return { kind: 'If', span: this.span(c!), cond: this.expr(a!, scope), then: this.expr(b!, scope), else: this.expr(d!, scope) };
      }
      default:
        throw new Error(`internal error: unexpected CST node ${c.name}`);
    }
  }

  private lambda(n: CstNode, scope: Scope): A.Lambda {
    const span = this.span(n);
    const idTok = token(n, 'Identifier');
    const f = node(n, 'formals');
    const bodyNode = node(n, 'expr')!;
    if (!f) {
      const inner = envScope(scope, [idTok!.image]);
      return { kind: 'Lambda', span, arg: idTok!.image, formals: undefined, ellipsis: false, body: this.expr(bodyNode, inner), name: undefined };
    }
    const list: { name: string; span: Span; def: CstNode | undefined }[] = [];
    let ellipsis = false;
    for (let l = node(f, 'formalList'); l; l = node(l, 'formalList')) {
      if (token(l, 'Ellipsis')) ellipsis = true;
      const fo = node(l, 'formal');
      if (fo) {
        const id = token(fo, 'Identifier')!;
        list.push({ name: id.image, span: this.span(id), def: node(fo, 'expr') });
      }
    }
    const arg = idTok?.image;
    // Duplicates, as Nix reports them: the later of two equal names.
    const seen = new Map<string, Span>();
    for (const fo of list) {
      const prev = seen.get(fo.name);
      if (prev) {
        this.error('E_DUP_FORMAL', `duplicate formal function argument '${fo.name}'`, fo.span, [
          { message: `'${fo.name}' is first declared here`, span: prev },
        ]);
      } else seen.set(fo.name, fo.span);
    }
    if (arg !== undefined && seen.has(arg)) {
      this.error('E_DUP_FORMAL', `duplicate formal function argument '${arg}'`, this.span(idTok!), [
        { message: `'${arg}' is also a formal argument`, span: seen.get(arg) },
      ]);
    }
    const inner = envScope(scope, [...list.map((x) => x.name), ...(arg !== undefined ? [arg] : [])]);
    const formals: A.Formal[] = list.map((x) => ({ name: x.name, span: x.span, default: x.def ? this.expr(x.def, inner) : undefined }));
    return { kind: 'Lambda', span, arg, formals, ellipsis, body: this.expr(bodyNode, inner), name: undefined };
  }

  private letExpr(n: CstNode, scope: Scope): A.Expr {
    const pre = this.collectBinds(node(n, 'binds')!, true, this.span(n));
    for (const d of pre.dynamic) this.error('E_PARSE', 'dynamic attributes not allowed in let', d.name.span);
    const inner = envScope(scope, pre.attrs.keys());
    const attrs = this.bindings(pre, scope, inner);
    return { kind: 'Let', span: this.span(n), attrs, body: this.expr(node(n, 'expr')!, inner) };
  }

  // ---- operators ----------------------------------------------------------------------------------
  /**
   * The operator form of an expr is a flat list of operands, binary operators and `? attrpath`;
   * it is turned into a tree by precedence climbing with the binding powers of Nix 2.8's bison
   * grammar. A prefix
   * `!` takes as its operand everything that binds tighter than `!` (so `!a + b` is `!(a + b)`,
   * also as a right operand: `a + !b + c` is `a + !(b + c)`); a prefix `-` binds tightest.
   */
  private opExpr(n: CstNode, scope: Scope): A.Expr {
    const ch = n.children;
    if (ch.operand!.length === 1 && !ch.attrpath) return this.operand(ch.operand![0] as CstNode, scope);
    const items: OpItem[] = [];
    for (const c of ordered(n)) {
      if (isToken(c)) {
        if (c.tokenType.name !== 'Question') items.push({ t: 'bin', tok: c }); // `?`: its attrpath follows
      } else if (c.name === 'operand') {
        for (const t of ordered(c, ['Bang', 'Minus'])) items.push({ t: 'prefix', tok: t as IToken });
        items.push({ t: 'atom', node: c });
      } else items.push({ t: 'has', path: c });
    }
    const state = { i: 0 };
    return this.climb(items, state, 0, scope);
  }

  /** An operand on its own (the common case): prefix operators, then the application. */
  private operand(n: CstNode, scope: Scope): A.Expr {
    if (!n.children.Bang && !n.children.Minus) return this.app(n, scope);
    const items: OpItem[] = [];
    for (const t of ordered(n, ['Bang', 'Minus'])) items.push({ t: 'prefix', tok: t as IToken });
    items.push({ t: 'atom', node: n });
    return this.climb(items, { i: 0 }, 0, scope);
  }

  private climb(items: OpItem[], st: { i: number }, minPrec: number, scope: Scope): A.Expr {
    const first = items[st.i++]!;
    let lhs: A.Expr;
    if (first.t === 'prefix') {
      const bang = first.tok.image === '!';
      const operand = this.climb(items, st, (bang ? PREC_NOT : PREC_NEG) + 1, scope);
      const span = this.join(this.span(first.tok), operand.span);
      lhs = bang
        ? { kind: 'Not', span, expr: operand }
        : { kind: 'Neg', span, expr: operand, fn: this.resolve('__sub', this.span(first.tok), scope) };
    } else if (first.t === 'atom') {
      lhs = this.app(first.node, scope);
    } else {
      throw new Error('internal error: operator sequence does not start with an operand');
    }
    let lastNonAssoc = -1;
    for (;;) {
      const it = items[st.i];
      if (!it) break;
      if (it.t === 'has') {
        if (PREC_HAS < minPrec) break;
        st.i++;
        lhs = { kind: 'HasAttr', span: this.join(lhs.span, this.span(it.path)), target: lhs, path: this.attrPath(it.path, scope) };
        continue;
      }
      if (it.t !== 'bin') throw new Error('internal error: two operands in a row');
      const p = BINARY_PREC[it.tok.image]!;
      if (p < minPrec) break;
      if (p === lastNonAssoc) {
        // `a == b == c`, `a < b < c`: Nix's grammar makes these operators non-associative.
        this.error('E_PARSE', `syntax error, unexpected '${it.tok.image}'`, this.span(it.tok));
      }
      st.i++;
      const rhs = this.climb(items, st, RIGHT_ASSOC.has(it.tok.image) ? p : p + 1, scope);
      lhs = this.binary(it.tok, lhs, rhs, scope);
      if (p === PREC_EQ || p === PREC_CMP) lastNonAssoc = p;
    }
    return lhs;
  }

  private binary(op: IToken, lhs: A.Expr, rhs: A.Expr, scope: Scope): A.Expr {
    const span = this.join(lhs.span, rhs.span);
    const opSpan = this.span(op);
    switch (op.image) {
      case '->':
        return { kind: 'Impl', span, lhs, rhs };
      case '//':
        return { kind: 'Update', span, lhs, rhs };
      case '++':
        return { kind: 'Concat', span, lhs, rhs };
      case '||':
        return { kind: 'Or', span, lhs, rhs };
      case '&&':
        return { kind: 'And', span, lhs, rhs };
      case '==':
        return { kind: 'Eq', span, lhs, rhs, negated: false };
      case '!=':
        return { kind: 'Eq', span, lhs, rhs, negated: true };
      case '<':
      case '>':
      case '<=':
      case '>=':
        return { kind: 'Compare', span, op: op.image, lhs, rhs, fn: this.resolve('__lessThan', opSpan, scope) };
      case '+':
        return { kind: 'Add', span, lhs, rhs };
      case '-':
        return { kind: 'Arith', span, op: '-', lhs, rhs, fn: this.resolve('__sub', opSpan, scope) };
      case '*':
        return { kind: 'Arith', span, op: '*', lhs, rhs, fn: this.resolve('__mul', opSpan, scope) };
      case '/':
        return { kind: 'Arith', span, op: '/', lhs, rhs, fn: this.resolve('__div', opSpan, scope) };
      default:
        throw new Error(`internal error: unexpected operator ${op.image}`);
    }
  }

  /** An operand's application `f a b` (prefix operators are handled by climb). */
  private app(n: CstNode, scope: Scope): A.Expr {
    const sels = nodes(n, 'selectExpr');
    const fn = this.select(sels[0]!, scope);
    if (sels.length === 1) return fn;
    const args = sels.slice(1).map((s) => this.select(s, scope));
    // Nix 2.8 flattens `(f a) b` into one call with two arguments.
    if (fn.kind === 'Call') return { kind: 'Call', span: this.span(n), fn: fn.fn, args: [...fn.args, ...args] };
    return { kind: 'Call', span: this.span(n), fn, args };
  }

  private select(n: CstNode, scope: Scope): A.Expr {
    const target = this.simple(n, scope);
    const ch = n.children;
    if (!ch.attrpath && !ch.KwOr) return target; // the common case: no selection
    const path = node(n, 'attrpath');
    const span = this.span(n);
    if (path) {
      const fb = node(n, 'selectExpr');
      return { kind: 'Select', span, target, path: this.attrPath(path, scope), fallback: fb ? this.select(fb, scope) : undefined };
    }
    const or = token(n, 'KwOr')!;
    return { kind: 'Call', span, fn: target, args: [this.resolve('or', this.span(or), scope)] };
  }

  /** The simple expression that starts a selectExpr. */
  private simple(n: CstNode, scope: Scope): A.Expr {
    const key = atomKey(n);
    const c = n.children[key]![0]!;
    const span = this.span(c);
    switch (key) {
      case 'Identifier': {
        const name = (c as IToken).image;
        if (name === '__curPos') return { kind: 'CurPos', span };
        return this.resolve(name, span, scope);
      }
      case 'Int': {
        const v = parseIntLiteral((c as IToken).image);
        if (v === undefined) {
          this.error('E_BAD_LITERAL', `invalid integer '${(c as IToken).image}'`, span);
          return { kind: 'Int', span, value: 0 };
        }
        return { kind: 'Int', span, value: v };
      }
      case 'Float': {
        const v = parseFloatLiteral((c as IToken).image);
        if (v === undefined) {
          this.error('E_BAD_LITERAL', `invalid float '${(c as IToken).image}'`, span);
          return { kind: 'Float', span, value: 0 };
        }
        return { kind: 'Float', span, value: v };
      }
      case 'string':
        return this.string(c as CstNode, scope);
      case 'indString':
        return this.indString(c as CstNode, scope);
      case 'path':
        return this.path(c as CstNode, scope);
      case 'SPath': {
        const img = (c as IToken).image;
        return {
          kind: 'Call',
          span,
          fn: this.resolve('__findFile', span, scope),
          args: [this.resolve('__nixPath', span, scope), { kind: 'Str', span, value: img.slice(1, -1) }],
        };
      }
      case 'Uri':
        return { kind: 'Str', span, value: (c as IToken).image };
      case 'parens':
        return this.expr(node(c as CstNode, 'expr')!, scope);
      case 'legacyLet': {
        const pre = this.collectBinds(node(c as CstNode, 'binds')!, true, span);
        const attrs = this.attrs(pre, scope);
        return { kind: 'Select', span, target: attrs, path: [{ name: 'body', span }], fallback: undefined };
      }
      case 'recAttrs':
      case 'attrs': {
        const pre = this.collectBinds(node(c as CstNode, 'binds')!, key === 'recAttrs', span);
        return this.attrs(pre, scope);
      }
      case 'list':
        return { kind: 'List', span, items: nodes(c as CstNode, 'selectExpr').map((s) => this.select(s, scope)) };
      default:
        throw new Error(`internal error: unexpected CST node ${key}`);
    }
  }

  // ---- strings and paths -------------------------------------------------------------------------
  private string(n: CstNode, scope: Scope): A.Expr {
    const span = this.span(n);
    const parts = ordered(n, ['StrChunk', 'interp']);
    if (!parts.some((p) => !isToken(p))) {
      return { kind: 'Str', span, value: parts.map((p) => unescapeString((p as IToken).image)).join('') };
    }
    return {
      kind: 'Interp',
      span,
      isPath: false,
      parts: parts.map((p) =>
        isToken(p) ? ({ kind: 'Str', span: this.span(p), value: unescapeString(p.image) } as A.Expr) : this.expr(node(p, 'expr')!, scope),
      ),
    };
  }

  /** The pieces of an indented string, before stripping (interpolations as CST nodes). */
  private indPieces(n: CstNode): IndPiece<CstNode>[] {
    const out: IndPiece<CstNode>[] = [];
    for (const p of ordered(n)) {
      if (!isToken(p)) {
        if (p.name === 'interp') out.push({ expr: p, start: startOf(p), end: this.span(p).end });
        continue;
      }
      const start = p.startOffset;
      const end = start + p.image.length;
      switch (p.tokenType.name) {
        case 'IndChunk':
          out.push({ text: p.image, hasIndentation: true, start, end });
          break;
        case 'IndEscQuotes':
          out.push({ text: "''", hasIndentation: false, start, end });
          break;
        case 'IndEscDollar':
        case 'IndDollar':
          out.push({ text: '$', hasIndentation: false, start, end });
          break;
        case 'IndQuote':
          out.push({ text: "'", hasIndentation: false, start, end });
          break;
        case 'IndEscChar':
          out.push({ text: unescapeString(p.image.slice(2)), hasIndentation: false, start, end });
          break;
        default:
          break; // IndOpen, IndClose
      }
    }
    return out;
  }

  private indString(n: CstNode, scope: Scope): A.Expr {
    const span = this.span(n);
    const pieces = stripIndentation(this.indPieces(n));
    if (pieces.length === 1 && 'text' in pieces[0]!) return { kind: 'Str', span, value: pieces[0].text };
    return {
      kind: 'Interp',
      span,
      isPath: false,
      parts: pieces.map((p) =>
        'text' in p
          ? ({ kind: 'Str', span: { file: this.file, start: p.start, end: p.end }, value: p.text } as A.Expr)
          : this.expr(node(p.expr, 'expr')!, scope),
      ),
    };
  }

  private path(n: CstNode, scope: Scope): A.Expr {
    const span = this.span(n);
    const first = (token(n, 'Path') ?? token(n, 'HPath'))!;
    const firstSpan = this.span(first);
    let value: string;
    if (first.tokenType.name === 'HPath') {
      // Nix 2.8 does not canonicalise `~/…` paths: $HOME followed by the text after `~`.
      value = this.opts.home + first.image.slice(1);
    } else {
      value = absPath(first.image, this.file.dir);
      if (first.image.endsWith('/') && first.image.length > 1) value += '/';
    }
    const rest = ordered(n, ['PathFragment', 'interp']);
    if (rest.length === 0) return { kind: 'Path', span, value };
    const parts: A.Expr[] = [{ kind: 'Path', span: firstSpan, value }];
    for (const p of rest) {
      if (isToken(p)) parts.push({ kind: 'Str', span: this.span(p), value: p.image });
      else parts.push(this.expr(node(p, 'expr')!, scope));
    }
    return { kind: 'Interp', span, isPath: true, parts };
  }

  // ---- attribute names -----------------------------------------------------------------------------
  /** The constant string an expression CST denotes, when lowering would give a Str node. */
  private constantString(n: CstNode): string | undefined {
    const sel = soleSelect(n);
    if (!sel) return undefined;
    const key = atomKey(sel);
    const c = sel.children[key]![0]!;
    if (key === 'parens') return this.constantString(node(c as CstNode, 'expr')!);
    if (key === 'Uri') return (c as IToken).image;
    if (key === 'string') return this.constantDq(c as CstNode);
    if (key === 'indString') {
      const pieces = stripIndentation(this.indPieces(c as CstNode));
      return pieces.length === 1 && 'text' in pieces[0]! ? pieces[0].text : undefined;
    }
    return undefined;
  }

  private constantDq(s: CstNode): string | undefined {
    if (nodes(s, 'interp').length > 0) return undefined;
    return tokens(s, 'StrChunk')
      .map((t) => unescapeString(t.image))
      .join('');
  }

  private nameItem(a: CstNode): NameItem {
    const span = this.span(a);
    const id = token(a, 'Identifier') ?? token(a, 'KwOr');
    if (id) return { name: id.image, span };
    const s = node(a, 'string');
    if (s) {
      const c = this.constantDq(s);
      return c !== undefined ? { name: c, span } : { dyn: a, span };
    }
    const c = this.constantString(node(node(a, 'interp')!, 'expr')!);
    return c !== undefined ? { name: c, span } : { dyn: a, span };
  }

  /** A dynamic name's expression. */
  private nameExpr(a: CstNode, scope: Scope): A.Expr {
    const s = node(a, 'string');
    if (s) return this.string(s, scope);
    return this.expr(node(node(a, 'interp')!, 'expr')!, scope);
  }

  private attrPath(p: CstNode, scope: Scope): A.AttrName[] {
    return nodes(p, 'attrName').map((a) => {
      const it = this.nameItem(a);
      return 'name' in it ? { name: it.name, span: it.span } : { expr: this.nameExpr(a, scope), span: it.span };
    });
  }

  // ---- attribute sets and let ------------------------------------------------------------------------
  /** The bindings of an attribute set literal (possibly in parentheses), for merging. */
  private asAttrsLiteral(exprNode: CstNode): PreAttrs | undefined {
    const sel = soleSelect(exprNode);
    if (!sel) return undefined;
    const key = atomKey(sel);
    const c = sel.children[key]![0]!;
    if (key === 'parens') return this.asAttrsLiteral(node(c as CstNode, 'expr')!);
    if (key === 'attrs' || key === 'recAttrs') return this.collectBinds(node(c as CstNode, 'binds')!, key === 'recAttrs', this.span(c));
    return undefined;
  }

  private showPath(path: readonly NameItem[]): string {
    return path.map((p) => ('name' in p ? p.name : '"${..}"')).join('.');
  }

  private dupAttr(shown: string, span: Span, prev: Span): void {
    this.error('E_DUP_ATTR', `attribute '${shown}' already defined at ${formatLocation(prev)}`, span, [
      { message: `'${shown}' was first defined here`, span: prev },
    ]);
  }

  collectBinds(b: CstNode, rec: boolean, span: Span): PreAttrs {
    const target: PreAttrs = { rec, span, attrs: new Map(), dynamic: [] };
    for (const item of ordered(b) as CstNode[]) {
      if (item.name === 'binding') {
        const pathNode = node(item, 'attrpath')!;
        const path = nodes(pathNode, 'attrName').map((a) => this.nameItem(a));
        const valueNode = node(item, 'expr')!;
        const lit = this.asAttrsLiteral(valueNode);
        const value: PreValue = lit ? { kind: 'attrs', attrs: lit } : { kind: 'expr', node: valueNode };
        this.addAttr(target, path, value, this.span(pathNode));
      } else {
        this.inherit(target, item);
      }
    }
    return target;
  }

  private inherit(target: PreAttrs, item: CstNode): void {
    const names = nodes(item, 'attrName');
    if (names.length === 0) return;
    const fromNode = node(item, 'expr');
    const from: FromHolder | undefined = fromNode ? { node: fromNode } : undefined;
    // Nix 2.8 gives every inherited attribute the position where its name list begins: just
    // after the `inherit` keyword, or after `)` (an empty rule's location in Nix's grammar).
    const before = token(item, 'RParen') ?? token(item, 'KwInherit');
    const listStart = before !== undefined ? (before.endOffset ?? before.startOffset) + 1 : this.span(names[0]!).start;
    for (const a of names) {
      const it = this.nameItem(a);
      if (!('name' in it)) {
        this.error('E_PARSE', 'dynamic attributes not allowed in inherit', it.span);
        continue;
      }
      const span: Span = { file: this.file, start: listStart, end: it.span.end };
      const prev = target.attrs.get(it.name);
      if (prev) {
        this.dupAttr(it.name, it.span, prev.span);
        continue;
      }
      const value: PreValue = from ? { kind: 'inheritFrom', from, name: it.name, span: it.span } : { kind: 'inherit', name: it.name, span: it.span };
      target.attrs.set(it.name, { name: it.name, span, inherited: !from, value, named: false });
    }
  }

  /** Nix 2.8's addAttr: nested paths create or extend literal sets; other clashes are errors. */
  private addAttr(attrs: PreAttrs, path: NameItem[], value: PreValue, span: Span): void {
    let target = attrs;
    for (let i = 0; i + 1 < path.length; i++) {
      const it = path[i]!;
      if ('name' in it) {
        const j = target.attrs.get(it.name);
        if (j) {
          if (!j.inherited && j.value.kind === 'attrs') target = j.value.attrs;
          else return this.dupAttr(this.showPath(path), span, j.span);
        } else {
          const nested: PreAttrs = { rec: false, span, attrs: new Map(), dynamic: [] };
          target.attrs.set(it.name, { name: it.name, span, inherited: false, value: { kind: 'attrs', attrs: nested }, named: false });
          target = nested;
        }
      } else {
        const nested: PreAttrs = { rec: false, span, attrs: new Map(), dynamic: [] };
        target.dynamic.push({ name: it, value: { kind: 'attrs', attrs: nested }, span });
        target = nested;
      }
    }
    const last = path[path.length - 1]!;
    if (!('name' in last)) {
      target.dynamic.push({ name: last, value, span });
      return;
    }
    const j = target.attrs.get(last.name);
    if (!j) {
      target.attrs.set(last.name, { name: last.name, span, inherited: false, value, named: true });
      return;
    }
    if (value.kind === 'attrs' && j.value.kind === 'attrs' && !j.inherited) {
      const into = j.value.attrs;
      for (const [name, ad] of value.attrs.attrs) {
        const j2 = into.attrs.get(name);
        if (j2) this.dupAttr(name, ad.span, j2.span);
        else into.attrs.set(name, ad);
      }
      into.dynamic.push(...value.attrs.dynamic);
      return;
    }
    this.dupAttr(this.showPath(path), span, j.span);
  }

  /** Lowers the static bindings of a set or let: inherited ones in `outer`, the rest in `inner`. */
  private bindings(pre: PreAttrs, outer: Scope, inner: Scope): A.Binding[] {
    const out: A.Binding[] = [];
    for (const d of pre.attrs.values()) {
      const v = this.preValue(d.value, d.inherited ? outer : inner);
      if (d.named && v.kind === 'Lambda') v.name = d.name;
      out.push({ name: d.name, value: v, inherited: d.inherited, span: d.span });
    }
    return out;
  }

  private attrs(pre: PreAttrs, scope: Scope): A.Attrs {
    const inner = pre.rec ? envScope(scope, pre.attrs.keys()) : scope;
    const attrs = this.bindings(pre, scope, inner);
    // Dynamic attributes of a rec set are evaluated in the set's own Env (as in Nix 2.8).
    const dynamic: A.DynamicBinding[] = pre.dynamic.map((d) => ({
      name: this.nameExpr(d.name.dyn, inner),
      value: this.preValue(d.value, inner),
      span: d.span,
    }));
    return { kind: 'Attrs', span: pre.span, rec: pre.rec, attrs, dynamic };
  }

  private preValue(v: PreValue, scope: Scope): A.Expr {
    switch (v.kind) {
      case 'expr':
        return this.expr(v.node, scope);
      case 'attrs':
        return this.attrs(v.attrs, scope);
      case 'inherit':
        return this.resolve(v.name, v.span, scope);
      case 'inheritFrom': {
        const target = (v.from.lowered ??= this.expr(v.from.node, scope));
        return { kind: 'Select', span: v.span, target, path: [{ name: v.name, span: v.span }], fallback: undefined };
      }
    }
  }
}

