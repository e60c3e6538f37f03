// syntax/fast-parser: a hand-written recursive-descent reader of the grammar in parser.ts that
// builds the very same CST (same node names, child keys in the same order, same tokens, same
// offset-only locations) without Chevrotain's per-rule machinery: the hot path of parse().
// It makes the LL(1) decisions Chevrotain makes (first alternative whose first set and gate
// match; repetitions are greedy) and gives up on the first token it cannot use.
// Never reports errors itself: on any rejection parse() runs the normative CstParser
// (parser.ts) for the messages, so error messages and the accepted language stay Chevrotain's
// (test/syntax/fast-parser.test.ts checks that both build equal CSTs).

import type { CstNode, IToken, TokenType } from 'chevrotain';
import * as T from './tokens.js';

interface Loc {
  startOffset: number;
  endOffset: number;
}
type Children = Record<string, (CstNode | IToken)[]>;
type Node = { name: string; children: Children; location: Loc };

/** Thrown (never escapes) when the input leaves the language: parse() asks Chevrotain why. */
const REJECT = { reject: true };

/** What Chevrotain's LA() returns past the end of the tokens. */
const EOF_TOKEN = { image: '', startOffset: NaN, endOffset: NaN, tokenType: undefined } as unknown as IToken;

// Token classes by tokenTypeIdx, built on first use (the lexer assigns the indices).
const F_SELECT = 1; // FIRST(selectExpr)
const F_BINOP = 2; // binary operators
const F_ATTRNAME = 4; // FIRST(attrName)
const F_IND = 8; // indented-string pieces (without `${`)
let flags: Uint8Array | undefined;

function buildFlags(): Uint8Array {
  const f = new Uint8Array(T.allTokens.reduce((m, t) => Math.max(m, t.tokenTypeIdx ?? 0), 0) + 1);
  const mark = (ts: TokenType[], bit: number) => ts.forEach((t) => (f[t.tokenTypeIdx!] |= bit));
  mark([T.Identifier, T.Int, T.Float, T.StrOpen, T.IndOpen, T.Path, T.HPath, T.SPath, T.Uri, T.LParen, T.KwLet, T.KwRec, T.LCurly, T.LBracket], F_SELECT);
  mark([T.Impl, T.OrOp, T.And, T.Eq, T.Neq, T.Lt, T.Gt, T.Leq, T.Geq, T.Update, T.Plus, T.Minus, T.Star, T.Slash, T.Concat], F_BINOP);
  mark([T.Identifier, T.KwOr, T.StrOpen, T.DollarCurly], F_ATTRNAME);
  mark([T.IndChunk, T.IndEscQuotes, T.IndEscDollar, T.IndEscChar, T.IndDollar, T.IndQuote], F_IND);
  return f;
}

class Reader {
  private pos = 0;
  private readonly len: number;
  constructor(
    private readonly toks: IToken[],
    private readonly fl: Uint8Array,
  ) {
    this.len = toks.length;
  }

  /** The type of the token `k` ahead (1 = next), undefined past the end. */
  private la(k: number): TokenType | undefined {
    const i = this.pos + k - 1;
    return i < this.len ? this.toks[i]!.tokenType : undefined;
  }
  private laFlags(): number {
    return this.pos < this.len ? this.fl[this.toks[this.pos]!.tokenTypeIdx]! : 0;
  }

  private open(name: string): Node {
    const t = this.pos < this.len ? this.toks[this.pos]! : EOF_TOKEN;
    return { name, children: {}, location: { startOffset: t.startOffset, endOffset: NaN } };
  }
  /** Chevrotain's cstPostRuleOnlyOffset: the end is the last consumed token's. */
  private close(n: Node): Node {
    const prev = this.pos > 0 ? this.toks[this.pos - 1]! : EOF_TOKEN;
    const loc = n.location;
    if (loc.startOffset <= prev.startOffset) loc.endOffset = prev.endOffset!;
    else loc.startOffset = NaN;
    return n;
  }
  private add(n: Node, key: string, c: CstNode | IToken): void {
    const a = n.children[key];
    if (a === undefined) n.children[key] = [c];
    else a.push(c);
  }
  private consume(n: Node, type: TokenType): void {
    const t = this.pos < this.len ? this.toks[this.pos]! : undefined;
    if (t === undefined || t.tokenType !== type) throw REJECT;
    this.pos++;
    this.add(n, type.name, t);
  }
  /** Consumes the next token whatever it is (the caller checked its type). */
  private take(n: Node): void {
    const t = this.toks[this.pos++]!;
    this.add(n, t.tokenType.name, t);
  }

  start(): CstNode {
    const n = this.open('start');
    this.add(n, 'expr', this.expr());
    if (this.pos !== this.len) throw REJECT;
    return this.close(n);
  }

  private lambdaAhead(): boolean {
    const t1 = this.la(1);
    const t2 = this.la(2);
    if (t1 === T.Identifier) return t2 === T.Colon || t2 === T.At;
    if (t1 !== T.LCurly) return false;
    if (t2 === T.Ellipsis) return true;
    const t3 = this.la(3);
    if (t2 === T.RCurly) return t3 === T.Colon || t3 === T.At;
    if (t2 === T.Identifier) {
      if (t3 === T.Comma || t3 === T.Question) return true;
      if (t3 === T.RCurly) {
        const t4 = this.la(4);
        return t4 === T.Colon || t4 === T.At;
      }
    }
    return false;
  }

  private expr(): CstNode {
    const n = this.open('expr');
    const t = this.la(1);
    if ((t === T.Identifier || t === T.LCurly) && this.lambdaAhead()) this.add(n, 'lambda', this.lambda());
    else if (t === T.KwAssert) this.add(n, 'assertExpr', this.keywordExpr('assertExpr'));
    else if (t === T.KwWith) this.add(n, 'withExpr', this.keywordExpr('withExpr'));
    else if (t === T.KwLet && this.la(2) !== T.LCurly) this.add(n, 'letExpr', this.letExpr());
    else if (t === T.KwIf) this.add(n, 'ifExpr', this.ifExpr());
    else {
      this.add(n, 'operand', this.operand());
      for (;;) {
        if (this.laFlags() & F_BINOP) {
          this.take(n);
          this.add(n, 'operand', this.operand());
        } else if (this.la(1) === T.Question) {
          this.take(n);
          this.add(n, 'attrpath', this.attrpath());
        } else break;
      }
    }
    return this.close(n);
  }

  private lambda(): CstNode {
    const n = this.open('lambda');
    const t2 = this.la(2);
    if (this.la(1) === T.Identifier && t2 === T.Colon) this.take(n);
    else if (this.la(1) === T.Identifier && t2 === T.At) {
      this.take(n);
      this.take(n);
      this.add(n, 'formals', this.formals());
    } else {
      this.add(n, 'formals', this.formals());
      if (this.la(1) === T.At) {
        this.take(n);
        this.consume(n, T.Identifier);
      }
    }
    this.consume(n, T.Colon);
    this.add(n, 'expr', this.expr());
    return this.close(n);
  }

  private formals(): CstNode {
    const n = this.open('formals');
    this.consume(n, T.LCurly);
    const t = this.la(1);
    if (t === T.Ellipsis || t === T.Identifier) this.add(n, 'formalList', this.formalList());
    this.consume(n, T.RCurly);
    return this.close(n);
  }

  private formalList(): CstNode {
    const n = this.open('formalList');
    if (this.la(1) === T.Ellipsis) this.take(n);
    else {
      this.add(n, 'formal', this.formal());
      if (this.la(1) === T.Comma) {
        this.take(n);
        const t = this.la(1);
        if (t === T.Ellipsis || t === T.Identifier) this.add(n, 'formalList', this.formalList());
      }
    }
    return this.close(n);
  }

  private formal(): CstNode {
    const n = this.open('formal');
    this.consume(n, T.Identifier);
    if (this.la(1) === T.Question) {
      this.take(n);
      this.add(n, 'expr', this.expr());
    }
    return this.close(n);
  }

  /** `assert e; e` and `with e; e`. */
  private keywordExpr(name: string): CstNode {
    const n = this.open(name);
    this.take(n);
    this.add(n, 'expr', this.expr());
    this.consume(n, T.Semi);
    this.add(n, 'expr', this.expr());
    return this.close(n);
  }

  private letExpr(): CstNode {
    const n = this.open('letExpr');
    this.take(n);
    this.add(n, 'binds', this.binds());
    this.consume(n, T.KwIn);
    this.add(n, 'expr', this.expr());
    return this.close(n);
  }

  private ifExpr(): CstNode {
    const n = this.open('ifExpr');
    this.take(n);
    this.add(n, 'expr', this.expr());
    this.consume(n, T.KwThen);
    this.add(n, 'expr', this.expr());
    this.consume(n, T.KwElse);
    this.add(n, 'expr', this.expr());
    return this.close(n);
  }

  private operand(): CstNode {
    const n = this.open('operand');
    for (let t = this.la(1); t === T.Bang || t === T.Minus; t = this.la(1)) this.take(n);
    if (!(this.laFlags() & F_SELECT)) throw REJECT;
    do this.add(n, 'selectExpr', this.selectExpr());
    while (this.laFlags() & F_SELECT);
    return this.close(n);
  }

  private selectExpr(): CstNode {
    const n = this.open('selectExpr');
    const t = this.la(1);
    if (t === T.Identifier || t === T.Int || t === T.Float || t === T.SPath || t === T.Uri) this.take(n);
    else if (t === T.StrOpen) this.add(n, 'string', this.string());
    else if (t === T.IndOpen) this.add(n, 'indString', this.indString());
    else if (t === T.Path || t === T.HPath) this.add(n, 'path', this.path());
    else if (t === T.LParen) this.add(n, 'parens', this.parens());
    else if (t === T.KwLet) this.add(n, 'legacyLet', this.bracedBinds('legacyLet'));
    else if (t === T.KwRec) this.add(n, 'recAttrs', this.bracedBinds('recAttrs'));
    else if (t === T.LCurly) this.add(n, 'attrs', this.bracedBinds('attrs'));
    else if (t === T.LBracket) this.add(n, 'list', this.list());
    else throw REJECT;
    const u = this.la(1);
    if (u === T.Dot) {
      this.take(n);
      this.add(n, 'attrpath', this.attrpath());
      if (this.la(1) === T.KwOr) {
        this.take(n);
        this.add(n, 'selectExpr', this.selectExpr());
      }
    } else if (u === T.KwOr) this.take(n);
    return this.close(n);
  }

  private parens(): CstNode {
    const n = this.open('parens');
    this.take(n);
    this.add(n, 'expr', this.expr());
    this.consume(n, T.RParen);
    return this.close(n);
  }

  /** `let { … }`, `rec { … }` and `{ … }`. */
  private bracedBinds(name: string): CstNode {
    const n = this.open(name);
    if (name !== 'attrs') this.take(n);
    this.consume(n, T.LCurly);
    this.add(n, 'binds', this.binds());
    this.consume(n, T.RCurly);
    return this.close(n);
  }

  private list(): CstNode {
    const n = this.open('list');
    this.take(n);
    while (this.laFlags() & F_SELECT) this.add(n, 'selectExpr', this.selectExpr());
    this.consume(n, T.RBracket);
    return this.close(n);
  }

  private binds(): CstNode {
    const n = this.open('binds');
    for (;;) {
      if (this.la(1) === T.KwInherit) this.add(n, 'inherit', this.inherit());
      else if (this.laFlags() & F_ATTRNAME) this.add(n, 'binding', this.binding());
      else break;
    }
    return this.close(n);
  }

  private binding(): CstNode {
    const n = this.open('binding');
    this.add(n, 'attrpath', this.attrpath());
    this.consume(n, T.Assign);
    this.add(n, 'expr', this.expr());
    this.consume(n, T.Semi);
    return this.close(n);
  }

  private inherit(): CstNode {
    const n = this.open('inherit');
    this.take(n);
    if (this.la(1) === T.LParen) {
      this.take(n);
      this.add(n, 'expr', this.expr());
      this.consume(n, T.RParen);
    }
    while (this.laFlags() & F_ATTRNAME) this.add(n, 'attrName', this.attrName());
    this.consume(n, T.Semi);
    return this.close(n);
  }

  private attrpath(): CstNode {
    const n = this.open('attrpath');
    this.add(n, 'attrName', this.attrName());
    while (this.la(1) === T.Dot) {
      this.take(n);
      this.add(n, 'attrName', this.attrName());
    }
    return this.close(n);
  }

  private attrName(): CstNode {
    const n = this.open('attrName');
    const t = this.la(1);
    if (t === T.Identifier || t === T.KwOr) this.take(n);
    else if (t === T.StrOpen) this.add(n, 'string', this.string());
    else if (t === T.DollarCurly) this.add(n, 'interp', this.interp());
    else throw REJECT;
    return this.close(n);
  }

  private interp(): CstNode {
    const n = this.open('interp');
    this.take(n);
    this.add(n, 'expr', this.expr());
    this.consume(n, T.RCurly);
    return this.close(n);
  }

  private string(): CstNode {
    const n = this.open('string');
    this.take(n);
    for (;;) {
      const t = this.la(1);
      if (t === T.StrChunk) this.take(n);
      else if (t === T.DollarCurly) this.add(n, 'interp', this.interp());
      else break;
    }
    this.consume(n, T.StrClose);
    return this.close(n);
  }

  private indString(): CstNode {
    const n = this.open('indString');
    this.take(n);
    for (;;) {
      if (this.laFlags() & F_IND) this.take(n);
      else if (this.la(1) === T.DollarCurly) this.add(n, 'interp', this.interp());
      else break;
    }
    this.consume(n, T.IndClose);
    return this.close(n);
  }

  private path(): CstNode {
    const n = this.open('path');
    this.take(n);
    let t = this.la(1);
    if (t === T.PathFragment || t === T.DollarCurly) {
      if (t === T.PathFragment) this.take(n);
      if (this.la(1) !== T.DollarCurly) throw REJECT;
      this.add(n, 'interp', this.interp());
      for (t = this.la(1); t === T.PathFragment || t === T.DollarCurly; t = this.la(1)) {
        if (t === T.PathFragment) this.take(n);
        else this.add(n, 'interp', this.interp());
      }
    }
    this.consume(n, T.PathEnd);
    return this.close(n);
  }
}

/**
 * The CST of `tokens` as the `start` rule of NixParser builds it, or undefined when the tokens
 * are not an expression of the grammar (the caller then asks the CstParser for the errors).
 * A RangeError (input nested too deeply for the stack) propagates.
 */
export function readCst(tokens: IToken[]): CstNode | undefined {
  try {
    return new Reader(tokens, (flags ??= buildFlags())).start();
  } catch (e) {
    if (e === REJECT) return undefined;
    throw e;
  }
}
