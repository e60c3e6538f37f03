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

type Kids = Record<string, (CstNode | IToken)[]>;

/**
 * Each rule collects its children in locals and creates its node at the end with an object
 * literal whose keys are in Chevrotain's order (first occurrence): a few fixed shapes per rule
 * instead of keys added one by one to one shared dictionary (megamorphic stores were a third
 * of the time).
 */
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
  /** Where the rule starting here begins (Chevrotain: the next token's offset). */
  private here(): number {
    return this.pos < this.len ? this.toks[this.pos]!.startOffset : NaN;
  }
  /** Chevrotain's node with its onlyOffset location: the end is the last consumed token's. */
  private node(name: string, children: Kids, start: number): CstNode {
    const prev = this.pos > 0 ? this.toks[this.pos - 1]! : EOF_TOKEN;
    const location: Loc = start <= prev.startOffset ? { startOffset: start, endOffset: prev.endOffset! } : { startOffset: NaN, endOffset: NaN };
    return { name, children, location } as CstNode;
  }
  private expect(type: TokenType): IToken {
    const t = this.pos < this.len ? this.toks[this.pos]! : undefined;
    if (t === undefined || t.tokenType !== type) throw REJECT;
    this.pos++;
    return t;
  }
  /** The next token, whatever it is (the caller checked its type). */
  private next(): IToken {
    return this.toks[this.pos++]!;
  }
  private static push(ch: Kids, t: IToken): void {
    const k = t.tokenType.name;
    const a = ch[k];
    if (a === undefined) ch[k] = [t];
    else a.push(t);
  }
  private static pushNode(ch: Kids, c: CstNode): void {
    const a = ch[c.name];
    if (a === undefined) ch[c.name] = [c];
    else a.push(c);
  }

  start(): CstNode {
    const s = this.here();
    const e = this.expr();
    if (this.pos !== this.len) throw REJECT;
    return this.node('start', { expr: [e] }, s);
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
    const s = this.here();
    const t = this.la(1);
    let ch: Kids;
    if ((t === T.Identifier || t === T.LCurly) && this.lambdaAhead()) ch = { lambda: [this.lambda()] };
    else if (t === T.KwAssert) ch = { assertExpr: [this.keywordExpr('assertExpr')] };
    else if (t === T.KwWith) ch = { withExpr: [this.keywordExpr('withExpr')] };
    else if (t === T.KwLet && this.la(2) !== T.LCurly) ch = { letExpr: [this.letExpr()] };
    else if (t === T.KwIf) ch = { ifExpr: [this.ifExpr()] };
    else {
      const first = this.operand();
      if (!(this.laFlags() & F_BINOP) && this.la(1) !== T.Question) ch = { operand: [first] };
      else {
        ch = { operand: [first] };
        for (;;) {
          if (this.laFlags() & F_BINOP) {
            Reader.push(ch, this.next());
            ch.operand!.push(this.operand());
          } else if (this.la(1) === T.Question) {
            Reader.push(ch, this.next());
            Reader.pushNode(ch, this.attrpath());
          } else break;
        }
      }
    }
    return this.node('expr', ch, s);
  }

  private lambda(): CstNode {
    const s = this.here();
    const t2 = this.la(2);
    let ch: Kids;
    if (this.la(1) === T.Identifier && t2 === T.Colon) {
      const id = this.next();
      ch = { Identifier: [id], Colon: [this.next()], expr: [this.expr()] };
    } else if (this.la(1) === T.Identifier && t2 === T.At) {
      const id = this.next();
      const at = this.next();
      const f = this.formals();
      const colon = this.expect(T.Colon);
      ch = { Identifier: [id], At: [at], formals: [f], Colon: [colon], expr: [this.expr()] };
    } else {
      const f = this.formals();
      if (this.la(1) === T.At) {
        const at = this.next();
        const id = this.expect(T.Identifier);
        const colon = this.expect(T.Colon);
        ch = { formals: [f], At: [at], Identifier: [id], Colon: [colon], expr: [this.expr()] };
      } else {
        const colon = this.expect(T.Colon);
        ch = { formals: [f], Colon: [colon], expr: [this.expr()] };
      }
    }
    return this.node('lambda', ch, s);
  }

  private formals(): CstNode {
    const s = this.here();
    const open = this.expect(T.LCurly);
    const t = this.la(1);
    const ch: Kids =
      t === T.Ellipsis || t === T.Identifier ? { LCurly: [open], formalList: [this.formalList()], RCurly: [this.expect(T.RCurly)] } : { LCurly: [open], RCurly: [this.expect(T.RCurly)] };
    return this.node('formals', ch, s);
  }

  private formalList(): CstNode {
    const s = this.here();
    let ch: Kids;
    if (this.la(1) === T.Ellipsis) ch = { Ellipsis: [this.next()] };
    else {
      const f = this.formal();
      if (this.la(1) === T.Comma) {
        const comma = this.next();
        const t = this.la(1);
        ch = t === T.Ellipsis || t === T.Identifier ? { formal: [f], Comma: [comma], formalList: [this.formalList()] } : { formal: [f], Comma: [comma] };
      } else ch = { formal: [f] };
    }
    return this.node('formalList', ch, s);
  }

  private formal(): CstNode {
    const s = this.here();
    const id = this.expect(T.Identifier);
    const ch: Kids = this.la(1) === T.Question ? { Identifier: [id], Question: [this.next()], expr: [this.expr()] } : { Identifier: [id] };
    return this.node('formal', ch, s);
  }

  /** `assert e; e` and `with e; e`. */
  private keywordExpr(name: string): CstNode {
    const s = this.here();
    const kw = this.next();
    const a = this.expr();
    const semi = this.expect(T.Semi);
    const ch: Kids = name === 'assertExpr' ? { KwAssert: [kw], expr: [a, this.expr()], Semi: [semi] } : { KwWith: [kw], expr: [a, this.expr()], Semi: [semi] };
    return this.node(name, ch, s);
  }

  private letExpr(): CstNode {
    const s = this.here();
    const kw = this.next();
    const b = this.binds();
    const kin = this.expect(T.KwIn);
    return this.node('letExpr', { KwLet: [kw], binds: [b], KwIn: [kin], expr: [this.expr()] }, s);
  }

  private ifExpr(): CstNode {
    const s = this.here();
    const kif = this.next();
    const c = this.expr();
    const kthen = this.expect(T.KwThen);
    const a = this.expr();
    const kelse = this.expect(T.KwElse);
    return this.node('ifExpr', { KwIf: [kif], expr: [c, a, this.expr()], KwThen: [kthen], KwElse: [kelse] }, s);
  }

  private operand(): CstNode {
    const s = this.here();
    let pre: Kids | undefined;
    for (let t = this.la(1); t === T.Bang || t === T.Minus; t = this.la(1)) Reader.push((pre ??= {}), this.next());
    if (!(this.laFlags() & F_SELECT)) throw REJECT;
    const sels = [this.selectExpr()];
    while (this.laFlags() & F_SELECT) sels.push(this.selectExpr());
    let ch: Kids;
    if (pre) {
      ch = pre;
      ch.selectExpr = sels;
    } else ch = { selectExpr: sels };
    return this.node('operand', ch, s);
  }

  private selectExpr(): CstNode {
    const s = this.here();
    const t = this.la(1);
    let ch: Kids;
    if (t === T.Identifier) ch = { Identifier: [this.next()] };
    else if (t === T.StrOpen) ch = { string: [this.string()] };
    else if (t === T.LCurly) ch = { attrs: [this.bracedBinds('attrs')] };
    else if (t === T.LParen) ch = { parens: [this.parens()] };
    else if (t === T.Int) ch = { Int: [this.next()] };
    else if (t === T.LBracket) ch = { list: [this.list()] };
    else if (t === T.Path || t === T.HPath) ch = { path: [this.path()] };
    else if (t === T.IndOpen) ch = { indString: [this.indString()] };
    else if (t === T.Float) ch = { Float: [this.next()] };
    else if (t === T.KwRec) ch = { recAttrs: [this.bracedBinds('recAttrs')] };
    else if (t === T.SPath) ch = { SPath: [this.next()] };
    else if (t === T.Uri) ch = { Uri: [this.next()] };
    else if (t === T.KwLet) ch = { legacyLet: [this.bracedBinds('legacyLet')] };
    else throw REJECT;
    const u = this.la(1);
    if (u === T.Dot) {
      ch.Dot = [this.next()];
      ch.attrpath = [this.attrpath()];
      if (this.la(1) === T.KwOr) {
        ch.KwOr = [this.next()];
        ch.selectExpr = [this.selectExpr()];
      }
    } else if (u === T.KwOr) ch.KwOr = [this.next()];
    return this.node('selectExpr', ch, s);
  }

  private parens(): CstNode {
    const s = this.here();
    const open = this.next();
    const e = this.expr();
    return this.node('parens', { LParen: [open], expr: [e], RParen: [this.expect(T.RParen)] }, s);
  }

  /** `let { … }`, `rec { … }` and `{ … }`. */
  private bracedBinds(name: string): CstNode {
    const s = this.here();
    let ch: Kids;
    if (name === 'attrs') {
      const open = this.expect(T.LCurly);
      const b = this.binds();
      ch = { LCurly: [open], binds: [b], RCurly: [this.expect(T.RCurly)] };
    } else {
      const kw = this.next();
      const open = this.expect(T.LCurly);
      const b = this.binds();
      const close = this.expect(T.RCurly);
      ch = name === 'recAttrs' ? { KwRec: [kw], LCurly: [open], binds: [b], RCurly: [close] } : { KwLet: [kw], LCurly: [open], binds: [b], RCurly: [close] };
    }
    return this.node(name, ch, s);
  }

  private list(): CstNode {
    const s = this.here();
    const open = this.next();
    let items: CstNode[] | undefined;
    while (this.laFlags() & F_SELECT) (items ??= []).push(this.selectExpr());
    const close = this.expect(T.RBracket);
    return this.node('list', items ? { LBracket: [open], selectExpr: items, RBracket: [close] } : { LBracket: [open], RBracket: [close] }, s);
  }

  private binds(): CstNode {
    const s = this.here();
    let bindings: CstNode[] | undefined;
    let inherits: CstNode[] | undefined;
    for (;;) {
      if (this.la(1) === T.KwInherit) (inherits ??= []).push(this.inherit());
      else if (this.laFlags() & F_ATTRNAME) (bindings ??= []).push(this.binding());
      else break;
    }
    let ch: Kids;
    if (!inherits) ch = bindings ? { binding: bindings } : {};
    else if (!bindings) ch = { inherit: inherits };
    else ch = inherits[0]!.location!.startOffset < bindings[0]!.location!.startOffset ? { inherit: inherits, binding: bindings } : { binding: bindings, inherit: inherits };
    return this.node('binds', ch, s);
  }

  private binding(): CstNode {
    const s = this.here();
    const p = this.attrpath();
    const eq = this.expect(T.Assign);
    const e = this.expr();
    return this.node('binding', { attrpath: [p], Assign: [eq], expr: [e], Semi: [this.expect(T.Semi)] }, s);
  }

  private inherit(): CstNode {
    const s = this.here();
    const ch: Kids = { KwInherit: [this.next()] };
    if (this.la(1) === T.LParen) {
      ch.LParen = [this.next()];
      ch.expr = [this.expr()];
      ch.RParen = [this.expect(T.RParen)];
    }
    let names: CstNode[] | undefined;
    while (this.laFlags() & F_ATTRNAME) (names ??= []).push(this.attrName());
    if (names) ch.attrName = names;
    ch.Semi = [this.expect(T.Semi)];
    return this.node('inherit', ch, s);
  }

  private attrpath(): CstNode {
    const s = this.here();
    const names = [this.attrName()];
    let dots: IToken[] | undefined;
    while (this.la(1) === T.Dot) {
      (dots ??= []).push(this.next());
      names.push(this.attrName());
    }
    return this.node('attrpath', dots ? { attrName: names, Dot: dots } : { attrName: names }, s);
  }

  private attrName(): CstNode {
    const s = this.here();
    const t = this.la(1);
    let ch: Kids;
    if (t === T.Identifier) ch = { Identifier: [this.next()] };
    else if (t === T.StrOpen) ch = { string: [this.string()] };
    else if (t === T.DollarCurly) ch = { interp: [this.interp()] };
    else if (t === T.KwOr) ch = { KwOr: [this.next()] };
    else throw REJECT;
    return this.node('attrName', ch, s);
  }

  private interp(): CstNode {
    const s = this.here();
    const open = this.next();
    const e = this.expr();
    return this.node('interp', { DollarCurly: [open], expr: [e], RCurly: [this.expect(T.RCurly)] }, s);
  }

  private string(): CstNode {
    const s = this.here();
    const open = this.next();
    let chunks: IToken[] | undefined;
    let interps: CstNode[] | undefined;
    for (;;) {
      const t = this.la(1);
      if (t === T.StrChunk) (chunks ??= []).push(this.next());
      else if (t === T.DollarCurly) (interps ??= []).push(this.interp());
      else break;
    }
    const close = this.expect(T.StrClose);
    let ch: Kids;
    if (!interps) ch = chunks ? { StrOpen: [open], StrChunk: chunks, StrClose: [close] } : { StrOpen: [open], StrClose: [close] };
    else if (!chunks) ch = { StrOpen: [open], interp: interps, StrClose: [close] };
    else if (chunks[0]!.startOffset < interps[0]!.location!.startOffset) ch = { StrOpen: [open], StrChunk: chunks, interp: interps, StrClose: [close] };
    else ch = { StrOpen: [open], interp: interps, StrChunk: chunks, StrClose: [close] };
    return this.node('string', ch, s);
  }

  private indString(): CstNode {
    const s = this.here();
    const ch: Kids = { IndOpen: [this.next()] };
    for (;;) {
      if (this.laFlags() & F_IND) Reader.push(ch, this.next());
      else if (this.la(1) === T.DollarCurly) Reader.pushNode(ch, this.interp());
      else break;
    }
    Reader.push(ch, this.expect(T.IndClose));
    return this.node('indString', ch, s);
  }

  private path(): CstNode {
    const s = this.here();
    const ch: Kids = {};
    Reader.push(ch, this.next());
    let t = this.la(1);
    if (t === T.PathFragment || t === T.DollarCurly) {
      if (t === T.PathFragment) Reader.push(ch, this.next());
      if (this.la(1) !== T.DollarCurly) throw REJECT;
      Reader.pushNode(ch, this.interp());
      for (t = this.la(1); t === T.PathFragment || t === T.DollarCurly; t = this.la(1)) {
        if (t === T.PathFragment) Reader.push(ch, this.next());
        else Reader.pushNode(ch, this.interp());
      }
    }
    Reader.push(ch, this.expect(T.PathEnd));
    return this.node('path', ch, s);
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
