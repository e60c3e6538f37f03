// syntax/parser: the Chevrotain CstParser for the whole Nix grammar — grammar only, no embedded
// actions; one instance per process, reused for every parse. Operator precedence is encoded in
// one rule per level (loosest first), as Nix 2.8's bison precedences decide it. The rule names
// are the production names of grammar/nix.ebnf. It is the grammar's reference: fast-parser.ts
// reads the same grammar by hand (the hot path) and must change with it (test/syntax/fast-parser
// compares the two); this parser runs for input the reader rejects, for the error messages.
// Never builds AST nodes, resolves names or evaluates; never throws for user input.

import type { CstNode, IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { chevrotain } from './chevrotain.js';

const { CstParser, EOF, LLkLookaheadStrategy } = chevrotain;

type LookaheadFn = (...args: unknown[]) => unknown;

/**
 * Chevrotain's LL(k) lookahead, computed for each decision on its first use instead of for all
 * of them in performSelfAnalysis: a short input (`imgeval eval -E '1'`) pays only for the
 * decisions it reaches. Same functions, same results.
 */
class LazyLookahead extends LLkLookaheadStrategy {
  override buildLookaheadForAlternation(o: Parameters<InstanceType<typeof LLkLookaheadStrategy>['buildLookaheadForAlternation']>[0]) {
    let f: LookaheadFn | undefined;
    const build = () => super.buildLookaheadForAlternation(o) as unknown as LookaheadFn;
    return function (this: unknown, ...args: unknown[]) {
      return (f ??= build()).apply(this, args);
    } as unknown as ReturnType<InstanceType<typeof LLkLookaheadStrategy>['buildLookaheadForAlternation']>;
  }
  override buildLookaheadForOptional(o: Parameters<InstanceType<typeof LLkLookaheadStrategy>['buildLookaheadForOptional']>[0]) {
    let f: LookaheadFn | undefined;
    const build = () => super.buildLookaheadForOptional(o) as unknown as LookaheadFn;
    return function (this: unknown, ...args: unknown[]) {
      return (f ??= build()).apply(this, args);
    } as unknown as ReturnType<InstanceType<typeof LLkLookaheadStrategy>['buildLookaheadForOptional']>;
  }
}
import * as T from './tokens.js';

/** How many times a parser was built in this process (a test checks it stays at one). */
export let parserBuilds = 0;

function describe(t: IToken): string {
  if (t.tokenType === EOF) return 'end of file';
  const label = t.tokenType.LABEL ?? t.tokenType.name;
  if (label.startsWith("'") || label.endsWith(')')) return label;
  if (t.tokenType === T.PathEnd) return 'end of path';
  const img = t.image.length > 30 ? `${t.image.slice(0, 30)}…` : t.image;
  return `${label} '${img}'`;
}

function tokenName(t: TokenType): string {
  if (t === EOF) return 'end of file';
  return t.LABEL ?? t.name;
}

function expecting(paths: TokenType[][][] | TokenType[][]): string {
  const names: string[] = [];
  const add = (t: TokenType | undefined) => {
    if (!t) return;
    const n = tokenName(t);
    if (!names.includes(n)) names.push(n);
  };
  for (const p of paths as unknown[]) {
    if (Array.isArray(p) && Array.isArray(p[0])) for (const q of p as TokenType[][]) add(q[0]);
    else add((p as TokenType[])[0]);
  }
  if (names.length === 0) return '';
  // Many first tokens: the start of an expression (identifiers, literals, brackets, keywords).
  if (names.length > 8) return names.includes('identifier') ? ', expecting an expression' : '';
  const last = names.pop()!;
  return `, expecting ${names.length ? `${names.join(', ')} or ${last}` : last}`;
}

const errorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return `unexpected ${describe(actual)}, expecting ${tokenName(expected)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `unexpected ${describe(firstRedundant)}, expecting end of file`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual }) {
    return `unexpected ${describe(actual[0]!)}${expecting(expectedPathsPerAlt)}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual }) {
    return `unexpected ${describe(actual[0]!)}${expecting(expectedIterationPaths)}`;
  },
};

/** The binary operators, in the order of Nix's precedence table (loosest first). */
const BINARY_OPERATORS: TokenType[] = [T.Impl, T.OrOp, T.And, T.Eq, T.Neq, T.Lt, T.Gt, T.Leq, T.Geq, T.Update, T.Plus, T.Minus, T.Star, T.Slash, T.Concat];

export class NixParser extends CstParser {
  private binaryOperators: { ALT: () => unknown }[] | undefined;
  /**
   * The alternatives of each OR, built on its first call and reused (Chevrotain's advice:
   * building the arrays and closures on every call costs time and garbage).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly alts: Record<string, any> = {};

  constructor(validate: boolean) {
    super(T.allTokens, {
      recoveryEnabled: false,
      nodeLocationTracking: 'onlyOffset',
      maxLookahead: 1,
      lookaheadStrategy: new LazyLookahead({ maxLookahead: 1 }),
      skipValidations: !validate,
      errorMessageProvider: errorMessages,
    });
    this.performSelfAnalysis();
  }

  /** `{` starts a function's formals (not an attribute set), or an identifier is a parameter. */
  private lambdaAhead(): boolean {
    const t1 = this.LA(1).tokenType;
    const t2 = this.LA(2).tokenType;
    if (t1 === T.Identifier) return t2 === T.Colon || t2 === T.At;
    if (t1 !== T.LCurly) return false;
    if (t2 === T.Ellipsis) return true;
    const t3 = this.LA(3).tokenType;
    if (t2 === T.RCurly) return t3 === T.Colon || t3 === T.At;
    if (t2 === T.Identifier) {
      if (t3 === T.Comma || t3 === T.Question) return true;
      if (t3 === T.RCurly) {
        const t4 = this.LA(4).tokenType;
        return t4 === T.Colon || t4 === T.At;
      }
    }
    return false;
  }

  /** The whole input: one expression. */
  public start = this.RULE('start', () => {
    this.SUBRULE(this.expr);
  });

  /**
   * An expression. Its last form is a flat sequence of operands, binary operators and
   * `? attrpath`; precedence, associativity and the non-associativity of `==` `!=` `<` `>` `<=`
   * `>=` are applied when the sequence is lowered (lower.ts, by precedence climbing with Nix
   * 2.8's bison table). A flat rule keeps the CST small and shallow: the parse is faster and
   * deeply nested input does not exhaust the stack.
   */
  public expr = this.RULE('expr', () => {
    this.OR((this.alts.or0 ??= {
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { GATE: () => this.lambdaAhead(), ALT: () => this.SUBRULE(this.lambda) },
        { ALT: () => this.SUBRULE(this.assertExpr) },
        { ALT: () => this.SUBRULE(this.withExpr) },
        { GATE: () => this.LA(2).tokenType !== T.LCurly, ALT: () => this.SUBRULE(this.letExpr) },
        { ALT: () => this.SUBRULE(this.ifExpr) },
        {
          ALT: () => {
            this.SUBRULE(this.operand);
            this.MANY((this.alts.r0 ??= () => {
              this.OR2([
                {
                  ALT: () => {
                    this.OR3(this.binaryOperators ??= BINARY_OPERATORS.map((t) => ({ ALT: () => this.CONSUME(t) })));
                    this.SUBRULE2(this.operand);
                  },
                },
                {
                  ALT: () => {
                    this.CONSUME(T.Question);
                    this.SUBRULE(this.attrpath);
                  },
                },
              ]);
            }));
          },
        },
      ],
    }));
  });

  public lambda = this.RULE('lambda', () => {
    this.OR((this.alts.or1 ??= {
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          GATE: () => this.LA(2).tokenType === T.Colon,
          ALT: () => {
            this.CONSUME(T.Identifier);
          },
        },
        {
          GATE: () => this.LA(2).tokenType === T.At,
          ALT: () => {
            this.CONSUME2(T.Identifier);
            this.CONSUME(T.At);
            this.SUBRULE(this.formals);
          },
        },
        {
          ALT: () => {
            this.SUBRULE2(this.formals);
            this.OPTION((this.alts.r1 ??= () => {
              this.CONSUME2(T.At);
              this.CONSUME3(T.Identifier);
            }));
          },
        },
      ],
    }));
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expr);
  });

  public formals = this.RULE('formals', () => {
    this.CONSUME(T.LCurly);
    this.OPTION((this.alts.r2 ??= () => this.SUBRULE(this.formalList)));
    this.CONSUME(T.RCurly);
  });

  /** `a, b ? 1, ...` — a trailing comma is allowed, `...` only last. */
  public formalList = this.RULE('formalList', () => {
    this.OR((this.alts.or2 ??= [
      { ALT: () => this.CONSUME(T.Ellipsis) },
      {
        ALT: () => {
          this.SUBRULE(this.formal);
          this.OPTION((this.alts.r3 ??= () => {
            this.CONSUME(T.Comma);
            this.OPTION2(() => this.SUBRULE(this.formalList));
          }));
        },
      },
    ]));
  });

  public formal = this.RULE('formal', () => {
    this.CONSUME(T.Identifier);
    this.OPTION((this.alts.r4 ??= () => {
      this.CONSUME(T.Question);
      this.SUBRULE(this.expr);
    }));
  });

  public assertExpr = this.RULE('assertExpr', () => {
    this.CONSUME(T.KwAssert);
    this.SUBRULE(this.expr);
    this.CONSUME(T.Semi);
    this.SUBRULE2(this.expr);
  });

  public withExpr = this.RULE('withExpr', () => {
    this.CONSUME(T.KwWith);
    this.SUBRULE(this.expr);
    this.CONSUME(T.Semi);
    this.SUBRULE2(this.expr);
  });

  public letExpr = this.RULE('letExpr', () => {
    this.CONSUME(T.KwLet);
    this.SUBRULE(this.binds);
    this.CONSUME(T.KwIn);
    this.SUBRULE(this.expr);
  });

  public ifExpr = this.RULE('ifExpr', () => {
    this.CONSUME(T.KwIf);
    this.SUBRULE(this.expr);
    this.CONSUME(T.KwThen);
    this.SUBRULE2(this.expr);
    this.CONSUME(T.KwElse);
    this.SUBRULE3(this.expr);
  });

  /** Prefix `!` and `-`, then an application `f a b` (its items are selects). */
  public operand = this.RULE('operand', () => {
    this.MANY((this.alts.r5 ??= () => {
      this.OR((this.alts.or3 ??= [{ ALT: () => this.CONSUME(T.Bang) }, { ALT: () => this.CONSUME(T.Minus) }]));
    }));
    this.AT_LEAST_ONE((this.alts.r6 ??= () => this.SUBRULE(this.selectExpr)));
  });

  /**
   * A simple expression, then optionally `.a.b`, `.a.b or d`, or the legacy `or` (which calls
   * the expression with the variable `or`).
   */
  public selectExpr = this.RULE('selectExpr', () => {
    this.OR((this.alts.or4 ??= [
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.CONSUME(T.Int) },
      { ALT: () => this.CONSUME(T.Float) },
      { ALT: () => this.SUBRULE(this.string) },
      { ALT: () => this.SUBRULE(this.indString) },
      { ALT: () => this.SUBRULE(this.path) },
      { ALT: () => this.CONSUME(T.SPath) },
      { ALT: () => this.CONSUME(T.Uri) },
      { ALT: () => this.SUBRULE(this.parens) },
      { ALT: () => this.SUBRULE(this.legacyLet) },
      { ALT: () => this.SUBRULE(this.recAttrs) },
      { ALT: () => this.SUBRULE(this.attrs) },
      { ALT: () => this.SUBRULE(this.list) },
    ]));
    this.OPTION((this.alts.r7 ??= () => {
      this.OR2((this.alts.or5 ??= [
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            this.SUBRULE(this.attrpath);
            this.OPTION2(() => {
              this.CONSUME(T.KwOr);
              this.SUBRULE(this.selectExpr);
            });
          },
        },
        { ALT: () => this.CONSUME2(T.KwOr) },
      ]));
    }));
  });

  public parens = this.RULE('parens', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RParen);
  });

  /** `let { …; body = e; }` means `(rec { … }).body`. */
  public legacyLet = this.RULE('legacyLet', () => {
    this.CONSUME(T.KwLet);
    this.CONSUME(T.LCurly);
    this.SUBRULE(this.binds);
    this.CONSUME(T.RCurly);
  });

  public recAttrs = this.RULE('recAttrs', () => {
    this.CONSUME(T.KwRec);
    this.CONSUME(T.LCurly);
    this.SUBRULE(this.binds);
    this.CONSUME(T.RCurly);
  });

  public attrs = this.RULE('attrs', () => {
    this.CONSUME(T.LCurly);
    this.SUBRULE(this.binds);
    this.CONSUME(T.RCurly);
  });

  /** List items are selects: `[ f x ]` has two items. */
  public list = this.RULE('list', () => {
    this.CONSUME(T.LBracket);
    this.MANY((this.alts.r8 ??= () => this.SUBRULE(this.selectExpr)));
    this.CONSUME(T.RBracket);
  });

  public binds = this.RULE('binds', () => {
    this.MANY((this.alts.r9 ??= () => {
      this.OR((this.alts.or6 ??= [{ ALT: () => this.SUBRULE(this.inherit) }, { ALT: () => this.SUBRULE(this.binding) }]));
    }));
  });

  public binding = this.RULE('binding', () => {
    this.SUBRULE(this.attrpath);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
    this.CONSUME(T.Semi);
  });

  public inherit = this.RULE('inherit', () => {
    this.CONSUME(T.KwInherit);
    this.OPTION((this.alts.r10 ??= () => {
      this.CONSUME(T.LParen);
      this.SUBRULE(this.expr);
      this.CONSUME(T.RParen);
    }));
    this.MANY((this.alts.r11 ??= () => this.SUBRULE(this.attrName)));
    this.CONSUME(T.Semi);
  });

  public attrpath = this.RULE('attrpath', () => {
    this.SUBRULE(this.attrName);
    this.MANY((this.alts.r12 ??= () => {
      this.CONSUME(T.Dot);
      this.SUBRULE2(this.attrName);
    }));
  });

  public attrName = this.RULE('attrName', () => {
    this.OR((this.alts.or7 ??= [
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.CONSUME(T.KwOr) },
      { ALT: () => this.SUBRULE(this.string) },
      { ALT: () => this.SUBRULE(this.interp) },
    ]));
  });

  /** `${ e }` in attribute names, strings and paths. */
  public interp = this.RULE('interp', () => {
    this.CONSUME(T.DollarCurly);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RCurly);
  });

  public string = this.RULE('string', () => {
    this.CONSUME(T.StrOpen);
    this.MANY((this.alts.r13 ??= () => {
      this.OR((this.alts.or8 ??= [{ ALT: () => this.CONSUME(T.StrChunk) }, { ALT: () => this.SUBRULE(this.interp) }]));
    }));
    this.CONSUME(T.StrClose);
  });

  public indString = this.RULE('indString', () => {
    this.CONSUME(T.IndOpen);
    this.MANY((this.alts.r14 ??= () => {
      this.OR((this.alts.or9 ??= [
        { ALT: () => this.CONSUME(T.IndChunk) },
        { ALT: () => this.CONSUME(T.IndEscQuotes) },
        { ALT: () => this.CONSUME(T.IndEscDollar) },
        { ALT: () => this.CONSUME(T.IndEscChar) },
        { ALT: () => this.CONSUME(T.IndDollar) },
        { ALT: () => this.CONSUME(T.IndQuote) },
        { ALT: () => this.SUBRULE(this.interp) },
      ]));
    }));
    this.CONSUME(T.IndClose);
  });

  /** A path literal; text after its first token needs an interpolation before it (as in Nix). */
  public path = this.RULE('path', () => {
    this.OR((this.alts.or10 ??= [{ ALT: () => this.CONSUME(T.Path) }, { ALT: () => this.CONSUME(T.HPath) }]));
    this.OPTION((this.alts.r15 ??= () => {
      this.OPTION2(() => this.CONSUME(T.PathFragment));
      this.SUBRULE(this.interp);
      this.MANY(() => {
        this.OR2((this.alts.or11 ??= [{ ALT: () => this.CONSUME2(T.PathFragment) }, { ALT: () => this.SUBRULE2(this.interp) }]));
      });
    }));
    this.CONSUME(T.PathEnd);
  });
}

let parser: NixParser | undefined;

/** The one parser of the process, built on first use (`validate` runs Chevrotain's checks). */
export function getParser(validate = false): NixParser {
  if (!parser) {
    parserBuilds++;
    parser = new NixParser(validate);
  }
  return parser;
}

/** Drops the parser after its state was broken (a stack overflow inside Chevrotain). */
export function resetParser(): void {
  parser = undefined;
}

export type { CstNode, IToken };
