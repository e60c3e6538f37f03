// syntax/tokens: the token types and the Chevrotain lexer of the Nix language, with its modes
// (main, "…" strings, ''…'' indented strings, the tail of an interpolated path). Mirrors Nix
// 2.8's flex lexer rule for rule, including its longest-match choices (paths and URIs beat
// identifiers and numbers, `1e6` is not a float, `x:x` is a URI).
// Never builds values or AST nodes; never throws for user input (errors come back as data).

import type { CustomPatternMatcherFunc, IToken, Lexer as LexerT, TokenType } from 'chevrotain';
import { chevrotain } from './chevrotain.js';

const { createToken, Lexer } = chevrotain;

/** How many times a lexer was built in this process (a test checks it stays at one). */
export let lexerBuilds = 0;

const PC = '[a-zA-Z0-9._+\\-]';

/** A custom pattern from a sticky regex (Chevrotain calls it with the offset to match at). */
function sticky(re: RegExp): CustomPatternMatcherFunc {
  const y = new RegExp(re.source, 'y');
  return (text, offset) => {
    y.lastIndex = offset;
    return y.exec(text);
  };
}

function chars(s: string): string[] {
  return [...s];
}
const LETTERS = chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
const DIGITS = chars('0123456789');
const PATH_START_CHARS = [...LETTERS, ...DIGITS, '.', '_', '+', '-', '/'];

/** Whether a `/` follows the path characters at `offset` (else no path can start there). */
function slashAfter(text: string, offset: number): boolean {
  for (let i = offset; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 47) return true; // '/'
    const pc = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 43 || c === 45;
    if (!pc) return false;
  }
  return false;
}

/** Whether a `:` follows the URI scheme characters at `offset` (else no URI starts there). */
function colonAfter(text: string, offset: number): boolean {
  for (let i = offset; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) return true; // ':'
    const sc = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
    if (!sc) return false;
  }
  return false;
}

// ---- skipped -----------------------------------------------------------------------------------
export const Whitespace = createToken({ name: 'Whitespace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /#[^\r\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*(?:[^*]|\*+[^*/])*\*+\//,
  group: Lexer.SKIPPED,
});

// ---- literals that must be tried before identifiers and numbers (they are longer when they match)
/** `scheme:rest` — a string literal without quotes. */
export const Uri = createToken({
  name: 'Uri',
  label: 'URI',
  pattern: (() => {
    const re = sticky(/[a-zA-Z][a-zA-Z0-9+\-.]*:[a-zA-Z0-9%/?:@&=+$,\-_.!~*']+/);
    return (text: string, offset: number) => (colonAfter(text, offset) ? re(text, offset, [], {}) : null);
  })(),
  start_chars_hint: LETTERS,
  line_breaks: false,
});
const pathRe = new RegExp(`${PC}*(?:\\/${PC}+)+\\/?|${PC}*\\/(?=\\$\\{)`, 'y');
/** `./a`, `a/b`, `/a`, `../a/`; or the first segment `a/` right before `${`. Enters path mode. */
export const Path = createToken({
  name: 'Path',
  label: 'path',
  pattern: (text, offset) => {
    if (!slashAfter(text, offset)) return null;
    pathRe.lastIndex = offset;
    return pathRe.exec(text);
  },
  start_chars_hint: PATH_START_CHARS,
  line_breaks: false,
  push_mode: 'path',
});
/** `~/a`, or `~/` right before `${`. Enters path mode. */
export const HPath = createToken({
  name: 'HPath',
  label: 'home path',
  pattern: sticky(new RegExp(`~(?:\\/${PC}+)+\\/?|~\\/(?=\\$\\{)`)),
  start_chars_hint: ['~'],
  line_breaks: false,
  push_mode: 'path',
});
/** `<nixpkgs/lib>` */
export const SPath = createToken({
  name: 'SPath',
  label: 'search path',
  pattern: sticky(new RegExp(`<${PC}+(?:\\/${PC}+)*>`)),
  start_chars_hint: ['<'],
  line_breaks: false,
});
export const Float = createToken({
  name: 'Float',
  label: 'float',
  pattern: /(?:[1-9][0-9]*\.[0-9]*|0?\.[0-9]+)(?:[Ee][+-]?[0-9]+)?/,
});
export const Int = createToken({ name: 'Int', label: 'integer', pattern: /[0-9]+/ });

// ---- identifiers and keywords ----------------------------------------------------------------
export const Identifier = createToken({ name: 'Identifier', label: 'identifier', pattern: /[a-zA-Z_][a-zA-Z0-9_'-]*/ });
function keyword(word: string): TokenType {
  return createToken({ name: `Kw${word[0]!.toUpperCase()}${word.slice(1)}`, label: `'${word}'`, pattern: word, longer_alt: Identifier });
}
export const KwIf = keyword('if');
export const KwThen = keyword('then');
export const KwElse = keyword('else');
export const KwAssert = keyword('assert');
export const KwWith = keyword('with');
export const KwLet = keyword('let');
export const KwIn = keyword('in');
export const KwRec = keyword('rec');
export const KwInherit = keyword('inherit');
export const KwOr = keyword('or');

// ---- operators and punctuation ----------------------------------------------------------------
function punct(name: string, image: string, extra: Partial<Parameters<typeof createToken>[0]> = {}): TokenType {
  return createToken({ name, label: `'${image}'`, pattern: image, ...extra });
}
export const Ellipsis = punct('Ellipsis', '...');
export const Eq = punct('Eq', '==');
export const Neq = punct('Neq', '!=');
export const Leq = punct('Leq', '<=');
export const Geq = punct('Geq', '>=');
export const And = punct('And', '&&');
export const OrOp = punct('OrOp', '||');
export const Impl = punct('Impl', '->');
export const Update = punct('Update', '//');
export const Concat = punct('Concat', '++');
export const Plus = punct('Plus', '+');
export const Minus = punct('Minus', '-');
export const Star = punct('Star', '*');
export const Slash = punct('Slash', '/');
export const Lt = punct('Lt', '<');
export const Gt = punct('Gt', '>');
export const Bang = punct('Bang', '!');
export const Question = punct('Question', '?');
export const At = punct('At', '@');
export const Colon = punct('Colon', ':');
export const Semi = punct('Semi', ';');
export const Comma = punct('Comma', ',');
export const Dot = punct('Dot', '.');
export const Assign = punct('Assign', '=');
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');
/** `${` in every mode: the interpolated expression is lexed in main mode. */
export const DollarCurly = punct('DollarCurly', '${', { push_mode: 'main' });
/** `{` pushes main mode so that the matching `}` pops back to where it was (brace nesting). */
export const LCurly = punct('LCurly', '{', { push_mode: 'main' });
export const RCurly = punct('RCurly', '}', { pop_mode: true });
export const StrOpen = punct('StrOpen', '"', { push_mode: 'str' });
/** `''` (followed by spaces and a newline, which it swallows, as Nix does). */
export const IndOpen = createToken({ name: 'IndOpen', label: "start of indented string ('')", pattern: /''(?: *\n)?/, push_mode: 'ind', line_breaks: true });

// ---- "…" string mode ---------------------------------------------------------------------------
export const StrClose = punct('StrClose', '"', { pop_mode: true });
/** Literal text with escapes (still escaped: lowering unescapes). */
export const StrChunk = createToken({
  name: 'StrChunk',
  label: 'string text',
  pattern: sticky(
    /(?:[^$"\\]|\$[^{"\\]|\\[\s\S]|\$\\[\s\S])*\$(?=")|(?:[^$"\\]|\$[^{"\\]|\\[\s\S]|\$\\[\s\S])+|\$\\|\$|\\/,
  ),
  line_breaks: true,
});

// ---- ''…'' indented string mode -----------------------------------------------------------------
export const IndEscQuotes = createToken({ name: 'IndEscQuotes', label: "'''", pattern: "'''" });
export const IndEscDollar = createToken({ name: 'IndEscDollar', label: "''$", pattern: "''$" });
export const IndEscChar = createToken({ name: 'IndEscChar', label: "''\\", pattern: /''\\[\s\S]/, line_breaks: true });
export const IndClose = createToken({ name: 'IndClose', label: "end of indented string ('')", pattern: "''", pop_mode: true });
export const IndChunk = createToken({
  name: 'IndChunk',
  label: 'indented string text',
  pattern: /(?:[^$']|\$[^{']|'[^'$])+/,
  line_breaks: true,
});
export const IndDollar = createToken({ name: 'IndDollar', label: "'$'", pattern: '$' });
export const IndQuote = createToken({ name: 'IndQuote', label: "'", pattern: "'" });

// ---- path mode (after a path token: more segments, `${…}`, or the end) ------------------------
const fragmentRe = new RegExp(`${PC}*(?:\\/${PC}+)*\\/?`, 'y');
/** Path characters and slashes after an interpolation (`./a${x}/b`). */
export const PathFragment = createToken({
  name: 'PathFragment',
  label: 'path text',
  pattern: (text, offset) => {
    fragmentRe.lastIndex = offset;
    const m = fragmentRe.exec(text);
    return m && m[0].length > 0 ? m : null;
  },
  start_chars_hint: PATH_START_CHARS,
  line_breaks: false,
});
const EMPTY_MATCH = (() => {
  const m = [''] as unknown as RegExpExecArray;
  return m;
})();
/** Zero-width: the path ended (Nix's PATH_END); the next character is lexed in main mode again. */
export const PathEnd = createToken({
  name: 'PathEnd',
  label: 'end of path',
  pattern: () => EMPTY_MATCH,
  line_breaks: false,
  pop_mode: true,
});

const mainMode: TokenType[] = [
  Whitespace,
  LineComment,
  BlockComment,
  Uri,
  Path,
  HPath,
  SPath,
  Float,
  Int,
  KwIf,
  KwThen,
  KwElse,
  KwAssert,
  KwWith,
  KwLet,
  KwInherit, // before 'in', its prefix
  KwIn,
  KwRec,
  KwOr,
  Identifier,
  Ellipsis,
  Eq,
  Neq,
  Leq,
  Geq,
  And,
  OrOp,
  Impl,
  Update,
  Concat,
  Plus,
  Minus,
  Star,
  Slash,
  Lt,
  Gt,
  Bang,
  Question,
  At,
  Colon,
  Semi,
  Comma,
  Dot,
  Assign,
  LParen,
  RParen,
  LBracket,
  RBracket,
  DollarCurly,
  LCurly,
  RCurly,
  StrOpen,
  IndOpen,
];

export const lexerDefinition = {
  modes: {
    main: mainMode,
    str: [DollarCurly, StrClose, StrChunk],
    ind: [IndEscQuotes, IndEscDollar, IndEscChar, IndClose, DollarCurly, IndChunk, IndDollar, IndQuote],
    path: [DollarCurly, PathFragment, PathEnd],
  },
  defaultMode: 'main',
};

/** Every token type, for the parser (order does not matter there). */
export const allTokens: TokenType[] = [
  ...mainMode,
  StrClose,
  StrChunk,
  IndEscQuotes,
  IndEscDollar,
  IndEscChar,
  IndClose,
  IndChunk,
  IndDollar,
  IndQuote,
  PathFragment,
  PathEnd,
];

let lexer: LexerT | undefined;

/**
 * The one lexer of the process, built on first use. `validate` runs Chevrotain's definition
 * checks (tests do; production skips them for start-up time).
 */
export function getLexer(validate = false): LexerT {
  if (!lexer) {
    lexerBuilds++;
    lexer = new Lexer(lexerDefinition, {
      positionTracking: 'onlyOffset',
      ensureOptimizations: false,
      skipValidations: !validate,
      recoveryEnabled: true,
    });
  }
  return lexer;
}

export interface LexError {
  readonly offset: number;
  readonly length: number;
  readonly message: string;
}

/** Tokenises `text`. Errors: characters no token matches, and "path has a trailing slash". */
export function tokenize(text: string): { tokens: IToken[]; errors: LexError[] } {
  // A sentinel newline lets a path at the very end of the input get its zero-width end token;
  // a token that runs into it (an unterminated string) is cut back to the real text.
  const r = getLexer().tokenize(text + '\n');
  const errors: LexError[] = [];
  for (const e of r.errors) {
    // An unmatched `}` at top level: the parser reports it as an unexpected '}'.
    if (/pop/i.test(e.message) && text[e.offset] === '}') continue;
    const ch = text.charCodeAt(e.offset);
    const shown = ch >= 32 && ch < 127 ? `'${text[e.offset]}'` : `byte 0x${ch.toString(16).padStart(2, '0')}`;
    errors.push({ offset: e.offset, length: Math.max(1, Math.min(e.length, text.length - e.offset)), message: `unexpected invalid character ${shown}` });
  }
  const tokens = r.tokens;
  // 'onlyOffset' tokens carry no end; the parser's node locations need it.
  for (const t of tokens) {
    if (t.startOffset + t.image.length > text.length) t.image = t.image.slice(0, Math.max(0, text.length - t.startOffset));
    t.endOffset = t.startOffset + t.image.length - 1;
  }
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType !== PathEnd) continue;
    const prev = tokens[i - 1]!;
    if ((prev.tokenType === Path || prev.tokenType === HPath || prev.tokenType === PathFragment) && prev.image.endsWith('/')) {
      errors.push({ offset: prev.startOffset, length: prev.image.length, message: 'path has a trailing slash' });
    }
  }
  return { tokens, errors };
}
