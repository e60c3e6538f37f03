// eval/lib/regex: the regular expressions of `builtins.match` and `builtins.split`, with the
// exact behaviour of Nix 2.8 (GNU libstdc++ 12 `std::regex` in POSIX `extended` mode, the "C"
// locale, on bytes). It owns the pattern scanner, the NFA built the way libstdc++ builds it,
// and a depth-first matcher that explores that NFA in libstdc++'s order. It never sees
// evaluator values: subjects and patterns are latin1 "byte strings" (one char = one byte).
//
// Why not a JS RegExp: libstdc++'s POSIX mode is neither ECMAScript nor textbook POSIX, and
// Nix 2.8 shows the differences (all checked against nix-instantiate, see the goldens):
//   - at an alternation both sides are explored and the *longest* overall match wins (ties:
//     the first found), so `split "a|ab" "abc"` gives `[ "" [ ] "c" ]` (JS would match "a");
//     a greedy repeat still stops at its first success, so it is not leftmost-longest either:
//     `match "(a|ab)(c|bcd)(d*)" "abcd"` gives `[ "a" "bcd" "" ]` as in JS;
//   - captures inside a repeated group are not reset between iterations:
//     `match "((a)|b)*" "ab"` gives `[ "b" "a" ]` (JS: `[ "b" null ]`);
//   - an iteration that matches the empty string may repeat twice at one position, so
//     `match "(|a)+" "a"` gives `[ "" ]`;
//   - `\` may escape only `.[\()*+?{|^$` (`\d`, `\]`, `\/` are invalid), `\` is literal in
//     brackets, `{` always opens an interval, `[[:w:]]` `[[:d:]]` `[[:s:]]` exist and class
//     names are case-insensitive, `[[.hyphen.]]`-style collating names and `[[=a=]]`
//     (matches `a` and `A`) work, ranges compare *signed* chars (`[a-\xff]` is invalid);
//   - a pattern whose NFA exceeds 100000 states is refused with "memory limit exceeded".
// Matching is libstdc++'s backtracking search, but it does not recurse (long subjects cannot
// overflow the stack) and a linear backward "viability" pass first marks the (state,
// position) pairs from which an accept is reachable, so dead ends are never explored: a
// failing match that takes Nix exponential time (`(a|a)*b` on `aaaa…c`) answers at once, with
// the same results everywhere else. Where a pattern provably cannot meet the differences above
// (see `fastPaths`), a translated JS RegExp answers instead, about 10x faster; tests check that
// both paths agree with Nix and with each other.

import { ImgError } from '../../base/error.js';

/** A compiled pattern: pass it to `matchWhole` and `splitAll`. */
export class NixRegex {
  /** @internal The matcher, reused by every call (matching is synchronous). */
  readonly matcher: Matcher;
  /** @internal */
  constructor(
    /** The pattern as written. */
    readonly source: string,
    /** @internal The automaton, as libstdc++ builds it. */
    readonly nfa: Nfa,
    /** @internal A JS RegExp that gives the same answers as the NFA for `match`, if any. */
    readonly exact: RegExp | null,
    /** @internal Likewise for the searches of `split` (a global RegExp), if any. */
    readonly search: RegExp | null,
    /**
     * @internal Whether a backtracking RegExp could take more than polynomial-in-practice time
     * (a quantifier over an alternation or another quantifier, or three unbounded quantifiers):
     * then the linear viability pass runs first (see `Matcher.prepare`).
     */
    readonly risky = true,
  ) {
    this.matcher = new Matcher(nfa);
    this.sticky = search ? new RegExp(search.source, 'y') : null;
  }
  /** @internal `search` anchored at lastIndex, tried only where a match can start. */
  readonly sticky: RegExp | null;
  /** Number of capture groups (the length of every capture list). */
  get groupCount(): number {
    return this.nfa.subCount - 1;
  }
}

/** One element of a `split` result: a non-matching string, or the captures of a match. */
export type SplitItem = string | (string | null)[];

const CACHE_LIMIT = 4096;
const cache = new Map<string, NixRegex>();

/**
 * Compiles a POSIX extended regular expression as Nix 2.8 reads it. Cached per pattern.
 * Throws ImgError E_EVAL `invalid regular expression '<pattern>'` for a bad pattern, or
 * `memory limit exceeded by regular expression '<pattern>'` when it is too large (as Nix).
 */
export function compileRegex(pattern: string): NixRegex {
  let re = cache.get(pattern);
  if (re) return re;
  let compiled: { nfa: Nfa; frag: Frag };
  try {
    compiled = compileNfa(pattern);
  } catch (e) {
    if (e instanceof RegexSyntaxError) {
      throw new ImgError(
        'E_EVAL',
        e.space
          ? `memory limit exceeded by regular expression '${pattern}'`
          : `invalid regular expression '${pattern}'`,
      );
    }
    throw e;
  }
  const { exact, search, risky } = fastPaths(compiled.frag);
  re = new NixRegex(pattern, compiled.nfa, exact, search, risky);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** @internal For tests: the same pattern without its JS RegExp fast paths (NFA only). */
export function withoutFastPaths(re: NixRegex): NixRegex {
  return new NixRegex(re.source, re.nfa, null, null, re.risky);
}

/** @internal For tests: whether `match` / `split` can use a JS RegExp for this pattern. */
export function fastPathsOf(re: NixRegex): { match: boolean; split: boolean } {
  return { match: re.exact !== null, split: re.search !== null };
}

/** The captures 1.. of a JS match, null for a group that did not take part. */
function jsCaptures(m: RegExpExecArray): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 1; i < m.length; i++) out.push(m[i] ?? null);
  return out;
}

/**
 * `builtins.match`: the whole of `s` must match. Returns the capture groups (null for a group
 * that did not take part), or null when `s` does not match.
 */
export function matchWhole(re: NixRegex, s: string): (string | null)[] | null {
  const m = re.matcher;
  if (re.exact) {
    // A backtracking RegExp can take exponential time to fail on a risky pattern; the linear
    // viability pass answers those failures first.
    if (re.risky) {
      m.reset(s);
      m.prepare(MODE_EXACT);
      if (!m.canStart(0)) return null;
    }
    const r = re.exact.exec(s);
    return r ? jsCaptures(r) : null;
  }
  m.reset(s);
  m.prepare(MODE_EXACT);
  if (!m.run(0, MODE_EXACT, false, false)) return null;
  return m.captures();
}

/**
 * `builtins.split`: the alternating list of non-matching strings and capture lists, as Nix 2.8
 * builds it from `std::sregex_iterator` (including its handling of empty matches: after an
 * empty match it first tries a non-empty match at the same place, then moves one byte on).
 */
export function splitAll(re: NixRegex, s: string): SplitItem[] {
  if (re.search) return re.risky ? splitSticky(re, s) : splitFast(re.search, s);
  const out: SplitItem[] = [];
  const m = re.matcher;
  m.reset(s);
  m.prepare(MODE_PREFIX);
  let prevAvail = false;
  let found = m.search(0, prevAvail, false, false);
  if (!found) return [s];
  let prefixStart = 0;
  for (;;) {
    const mStart = m.bestFirst[0]!;
    const mEnd = m.bestSecond[0]!;
    out.push(s.slice(prefixStart, mStart), m.captures());
    prefixStart = mEnd;
    // regex_iterator::operator++
    let start = mEnd;
    found = false;
    let done = false;
    if (mStart === mEnd) {
      if (start === s.length) done = true;
      else if (m.search(start, prevAvail, true, true)) found = true;
      else start++;
    }
    if (!done && !found) {
      prevAvail = true;
      found = m.search(start, prevAvail, false, false);
    }
    if (!found) break;
  }
  out.push(s.slice(prefixStart));
  return out;
}

/**
 * `split` with a sticky JS RegExp tried only at the positions where the viability pass says a
 * match can start (so failing positions cost nothing), for patterns with several quantifiers.
 */
function splitSticky(re: NixRegex, s: string): SplitItem[] {
  const m = re.matcher;
  m.reset(s);
  m.prepare(MODE_PREFIX);
  const y = re.sticky!;
  const out: SplitItem[] = [];
  let prefixStart = 0;
  for (let p = 0; p < s.length; ) {
    if (!m.canStart(p)) {
      p++;
      continue;
    }
    y.lastIndex = p;
    const r = y.exec(s);
    if (!r) {
      p++;
      continue;
    }
    out.push(s.slice(prefixStart, p), jsCaptures(r));
    prefixStart = p = y.lastIndex;
  }
  out.push(s.slice(prefixStart));
  return out;
}

/** `split` with a JS RegExp for a pattern that never matches empty (see `fastPaths`). */
function splitFast(g: RegExp, s: string): SplitItem[] {
  const out: SplitItem[] = [];
  let prefixStart = 0;
  g.lastIndex = 0;
  for (let m = g.exec(s); m; m = g.exec(s)) {
    out.push(s.slice(prefixStart, m.index), jsCaptures(m));
    prefixStart = g.lastIndex;
  }
  out.push(s.slice(prefixStart));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The NFA. Opcodes as libstdc++'s, minus those that extended mode never creates.

const OP_DUMMY = 0;
const OP_REPEAT = 1;
const OP_ALT = 2;
const OP_SUB_BEGIN = 3;
const OP_SUB_END = 4;
const OP_LINE_BEGIN = 5;
const OP_LINE_END = 6;
const OP_MATCH = 7;
const OP_ACCEPT = 8;

/** @internal The compiled automaton: parallel arrays indexed by state id. */
export interface Nfa {
  readonly op: Uint8Array;
  readonly next: Int32Array;
  readonly alt: Int32Array;
  /** Subexpression index (SUB_BEGIN/SUB_END) or matcher index (MATCH). */
  readonly arg: Int32Array;
  /** One 256-entry byte table per matcher: 1 where the byte matches. */
  readonly tables: Uint8Array[];
  readonly start: number;
  readonly subCount: number;
  /** Bytes that can begin a match, or null when a match may be empty or begin anywhere. */
  readonly firstBytes: Uint8Array | null;
}

const STATE_LIMIT = 100000;

class RegexSyntaxError extends Error {
  constructor(readonly space = false) {
    super(space ? 'regex too large' : 'bad regex');
  }
}

/** The states under construction, as parallel arrays indexed by state id. */
class Builder {
  readonly op: number[] = [];
  readonly next: number[] = [];
  readonly alt: number[] = [];
  readonly arg: number[] = [];
  readonly tables: Uint8Array[] = [];
  subCount = 0;
  readonly parenStack: number[] = [];

  insert(op: number, next = -1, alt = -1, arg = -1): number {
    this.op.push(op);
    this.next.push(next);
    this.alt.push(alt);
    this.arg.push(arg);
    if (this.op.length > STATE_LIMIT) throw new RegexSyntaxError(true);
    return this.op.length - 1;
  }
  subBegin(): number {
    const id = this.subCount++;
    this.parenStack.push(id);
    return this.insert(OP_SUB_BEGIN, -1, -1, id);
  }
  subEnd(): number {
    const id = this.parenStack.pop()!;
    return this.insert(OP_SUB_END, -1, -1, id);
  }
  matcher(table: Uint8Array): number {
    this.tables.push(table);
    return this.insert(OP_MATCH, -1, -1, this.tables.length - 1);
  }
  hasAlt(id: number): boolean {
    const op = this.op[id];
    return op === OP_ALT || op === OP_REPEAT;
  }
}

/**
 * What a fragment means as ECMAScript, to decide whether a JS RegExp gives the same answers
 * (see `fastPaths`): its source, whether it can match the empty string, how many capture
 * groups it holds, whether it is itself one group, whether every quantifier in it is safe,
 * and whether it holds an alternation or a `^`.
 */
interface Frag {
  js: string;
  nullable: boolean;
  groups: number;
  isGroup: boolean;
  safe: boolean;
  alt: boolean;
  caret: boolean;
  /** Holds a quantifier. */
  quant: boolean;
  /** Unbounded quantifiers (`*`, `+`, `{n,}`) in it. */
  unbounded: number;
  /** A quantifier applies to something holding an alternation or another quantifier. */
  nested: boolean;
}

const plainFrag = (js: string, nullable = false): Frag => ({
  js,
  nullable,
  groups: 0,
  isGroup: false,
  safe: true,
  alt: false,
  caret: false,
  quant: false,
  unbounded: 0,
  nested: false,
});

/** A fragment of the NFA: a start state and an end state whose `next` is still open. */
class Seq {
  frag: Frag = plainFrag('', true);
  constructor(
    readonly b: Builder,
    public start: number,
    public end: number = start,
  ) {}
  append(id: number): void {
    this.b.next[this.end] = id;
    this.end = id;
  }
  appendSeq(s: Seq): void {
    this.b.next[this.end] = s.start;
    this.end = s.end;
  }
  /** Copies the states of this fragment (libstdc++'s traversal, including its duplicates). */
  clone(): Seq {
    const b = this.b;
    const map = new Map<number, number>();
    const stack = [this.start];
    while (stack.length > 0) {
      const u = stack.pop()!;
      const next = b.next[u]!;
      const alt = b.alt[u]!;
      map.set(u, b.insert(b.op[u]!, next, alt, b.arg[u]));
      if (b.hasAlt(u) && alt !== -1 && !map.has(alt)) stack.push(alt);
      if (u === this.end) continue;
      if (next !== -1 && !map.has(next)) stack.push(next);
    }
    for (const v of map.values()) {
      if (b.next[v] !== -1) {
        const n = map.get(b.next[v]!);
        if (n === undefined) throw new Error('internal error: regex clone left its fragment');
        b.next[v] = n;
      }
      if (b.hasAlt(v) && b.alt[v] !== -1) {
        const a = map.get(b.alt[v]!);
        if (a === undefined) throw new Error('internal error: regex clone left its fragment');
        b.alt[v] = a;
      }
    }
    return new Seq(b, map.get(this.start)!, map.get(this.end)!);
  }
}

// ---------------------------------------------------------------------------------------------
// Scanner (extended mode).

const T_EOF = 0;
const T_ORD = 1; // value: one byte
const T_ANY = 2;
const T_LINE_BEGIN = 3;
const T_LINE_END = 4;
const T_STAR = 5;
const T_PLUS = 6;
const T_OPT = 7;
const T_OR = 8;
const T_SUB_BEGIN = 9;
const T_SUB_END = 10;
const T_BRACKET_BEGIN = 11;
const T_BRACKET_NEG_BEGIN = 12;
const T_BRACKET_END = 13;
const T_BRACKET_DASH = 14;
const T_INTERVAL_BEGIN = 15;
const T_INTERVAL_END = 16;
const T_COMMA = 17;
const T_DUP_COUNT = 18; // value: the digits
const T_COLLSYM = 19; // value: the name
const T_CLASS_NAME = 20;
const T_EQUIV_NAME = 21;

const SPEC_CHARS = '.[\\()*+?{|^$';
const S_NORMAL = 0;
const S_BRACKET = 1;
const S_BRACE = 2;

const isDigit = (c: string): boolean => c >= '0' && c <= '9';

class Scanner {
  private pos = 0;
  private state = S_NORMAL;
  private atBracketStart = false;
  token = T_EOF;
  value = '';

  constructor(private readonly p: string) {
    this.advance();
  }

  advance(): void {
    if (this.pos >= this.p.length) {
      this.token = T_EOF;
      return;
    }
    if (this.state === S_NORMAL) this.scanNormal();
    else if (this.state === S_BRACKET) this.scanBracket();
    else this.scanBrace();
  }

  private scanNormal(): void {
    const p = this.p;
    const c = p[this.pos++]!;
    if (!SPEC_CHARS.includes(c) && c !== '\0') {
      this.token = T_ORD;
      this.value = c;
      return;
    }
    switch (c) {
      case '\\': {
        if (this.pos >= p.length) throw new RegexSyntaxError();
        const d = p[this.pos]!;
        // Only the special characters may be escaped (libstdc++ built with __STRICT_ANSI__).
        if (!SPEC_CHARS.includes(d) || d === '\0') throw new RegexSyntaxError();
        this.token = T_ORD;
        this.value = d;
        this.pos++;
        return;
      }
      case '(':
        this.token = T_SUB_BEGIN;
        return;
      case ')':
        this.token = T_SUB_END;
        return;
      case '[':
        this.state = S_BRACKET;
        this.atBracketStart = true;
        if (this.pos < p.length && p[this.pos] === '^') {
          this.token = T_BRACKET_NEG_BEGIN;
          this.pos++;
        } else this.token = T_BRACKET_BEGIN;
        return;
      case '{':
        this.state = S_BRACE;
        this.token = T_INTERVAL_BEGIN;
        return;
      case '\0':
        throw new RegexSyntaxError();
      case '^':
        this.token = T_LINE_BEGIN;
        return;
      case '$':
        this.token = T_LINE_END;
        return;
      case '.':
        this.token = T_ANY;
        return;
      case '*':
        this.token = T_STAR;
        return;
      case '+':
        this.token = T_PLUS;
        return;
      case '?':
        this.token = T_OPT;
        return;
      case '|':
        this.token = T_OR;
        return;
    }
    throw new Error(`internal error: regex scanner at '${c}'`);
  }

  private scanBracket(): void {
    const p = this.p;
    if (this.pos >= p.length) throw new RegexSyntaxError();
    const c = p[this.pos++]!;
    if (c === '-') this.token = T_BRACKET_DASH;
    else if (c === '[') {
      if (this.pos >= p.length) throw new RegexSyntaxError();
      const d = p[this.pos]!;
      if (d === '.' || d === ':' || d === '=') {
        this.token = d === '.' ? T_COLLSYM : d === ':' ? T_CLASS_NAME : T_EQUIV_NAME;
        this.pos++;
        this.eatClass(d);
      } else {
        this.token = T_ORD;
        this.value = c;
      }
    } else if (c === ']' && !this.atBracketStart) {
      this.token = T_BRACKET_END;
      this.state = S_NORMAL;
    } else {
      this.token = T_ORD;
      this.value = c;
    }
    this.atBracketStart = false;
  }

  /** Reads `name` up to the closing `<ch>]` of `[:name:]`, `[.name.]` or `[=name=]`. */
  private eatClass(ch: string): void {
    const p = this.p;
    const close = p.indexOf(ch, this.pos);
    if (close < 0 || close + 1 >= p.length || p[close + 1] !== ']') throw new RegexSyntaxError();
    this.value = p.slice(this.pos, close);
    this.pos = close + 2;
  }

  private scanBrace(): void {
    const p = this.p;
    if (this.pos >= p.length) throw new RegexSyntaxError();
    const c = p[this.pos++]!;
    if (isDigit(c)) {
      let v = c;
      while (this.pos < p.length && isDigit(p[this.pos]!)) v += p[this.pos++];
      this.token = T_DUP_COUNT;
      this.value = v;
    } else if (c === ',') this.token = T_COMMA;
    else if (c === '}') {
      this.state = S_NORMAL;
      this.token = T_INTERVAL_END;
    } else throw new RegexSyntaxError();
  }
}

// ---------------------------------------------------------------------------------------------
// Character classes of the "C" locale (bytes 0x80..0xff belong to none).

type ClassTest = (c: number) => boolean;
const isUpper: ClassTest = (c) => c >= 0x41 && c <= 0x5a;
const isLower: ClassTest = (c) => c >= 0x61 && c <= 0x7a;
const isAlpha: ClassTest = (c) => isUpper(c) || isLower(c);
const isDigitCode: ClassTest = (c) => c >= 0x30 && c <= 0x39;
const isSpace: ClassTest = (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPrint: ClassTest = (c) => c >= 0x20 && c <= 0x7e;
const isGraph: ClassTest = (c) => c >= 0x21 && c <= 0x7e;
const CLASSES: Record<string, ClassTest> = {
  d: isDigitCode,
  w: (c) => isAlpha(c) || isDigitCode(c) || c === 0x5f,
  s: isSpace,
  alnum: (c) => isAlpha(c) || isDigitCode(c),
  alpha: isAlpha,
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: isDigitCode,
  graph: isGraph,
  lower: isLower,
  print: isPrint,
  punct: (c) => isGraph(c) && !isAlpha(c) && !isDigitCode(c),
  space: isSpace,
  upper: isUpper,
  xdigit: (c) => isDigitCode(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

/** The collating-element names libstdc++ knows: index = the byte it names (0..127). */
const COLLATE_NAMES = [
  'NUL', 'SOH', 'STX', 'ETX', 'EOT', 'ENQ', 'ACK', 'alert', 'backspace', 'tab', 'newline',
  'vertical-tab', 'form-feed', 'carriage-return', 'SO', 'SI', 'DLE', 'DC1', 'DC2', 'DC3', 'DC4',
  'NAK', 'SYN', 'ETB', 'CAN', 'EM', 'SUB', 'ESC', 'IS4', 'IS3', 'IS2', 'IS1', 'space',
  'exclamation-mark', 'quotation-mark', 'number-sign', 'dollar-sign', 'percent-sign',
  'ampersand', 'apostrophe', 'left-parenthesis', 'right-parenthesis', 'asterisk', 'plus-sign',
  'comma', 'hyphen', 'period', 'slash', 'zero', 'one', 'two', 'three', 'four', 'five', 'six',
  'seven', 'eight', 'nine', 'colon', 'semicolon', 'less-than-sign', 'equals-sign',
  'greater-than-sign', 'question-mark', 'commercial-at', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H',
  'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
  'left-square-bracket', 'backslash', 'right-square-bracket', 'circumflex', 'underscore',
  'grave-accent', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p',
  'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'left-curly-bracket', 'vertical-line',
  'right-curly-bracket', 'tilde', 'DEL',
];

function lookupCollate(name: string): number {
  const i = COLLATE_NAMES.indexOf(name);
  if (i < 0) throw new RegexSyntaxError();
  return i;
}

/** `char` is signed where Nix runs: ranges compare bytes as -128..127. */
const signed = (b: number): number => (b < 128 ? b : b - 256);
const toLowerC = (b: number): number => (isUpper(b) ? b + 32 : b);

/** A bracket expression being read, turned into a byte table by `table()`. */
class Bracket {
  private readonly chars = new Set<number>();
  private readonly ranges: [number, number][] = [];
  private readonly classes: ClassTest[] = [];
  private readonly equiv = new Set<number>();
  constructor(private readonly negated: boolean) {}
  addChar(b: number): void {
    this.chars.add(b);
  }
  addRange(l: number, r: number): void {
    if (signed(l) > signed(r)) throw new RegexSyntaxError();
    this.ranges.push([signed(l), signed(r)]);
  }
  addClass(name: string): void {
    const t = CLASSES[name.toLowerCase()];
    if (!t) throw new RegexSyntaxError();
    this.classes.push(t);
  }
  addEquivalence(name: string): void {
    this.equiv.add(toLowerC(lookupCollate(name)));
  }
  /**
   * Marks each member directly (a 256-step scan only for classes and equivalences): this runs
   * before V8 has optimised anything, so a per-byte loop over every part cost about 0.1 ms a
   * bracket.
   */
  table(): Uint8Array {
    const t = new Uint8Array(256);
    for (const c of this.chars) if (c >= 0 && c < 256) t[c] = 1;
    // Ranges hold signed chars (l <= r); v & 0xff is the byte of signed char v.
    for (const [l, r] of this.ranges) for (let v = l; v <= r; v++) t[v & 0xff] = 1;
    if (this.classes.length > 0 || this.equiv.size > 0) {
      for (let b = 0; b < 256; b++) {
        if (t[b]) continue;
        for (const c of this.classes) if (c(b)) t[b] = 1;
        if (this.equiv.has(toLowerC(b))) t[b] = 1;
      }
    }
    if (this.negated) for (let b = 0; b < 256; b++) t[b] ^= 1;
    return t;
  }
}

// ---------------------------------------------------------------------------------------------
// Compiler: the grammar of libstdc++'s _Compiler, building the same states.

/** libstdc++ accumulates a brace count in a `long`, then narrows it to `int`. */
function braceCount(digits: string): number {
  let v = 0n;
  for (const d of digits) v = BigInt.asIntN(64, v * 10n + BigInt(d.charCodeAt(0) - 48));
  return Number(BigInt.asIntN(32, v));
}

function compileNfa(pattern: string): { nfa: Nfa; frag: Frag } {
  const sc = new Scanner(pattern);
  const b = new Builder();
  const stack: Seq[] = [];
  let value = '';

  const accept = (tok: number): boolean => {
    if (sc.token !== tok) return false;
    value = sc.value;
    sc.advance();
    return true;
  };
  const pop = (): Seq => stack.pop()!;

  const disjunction = (): void => {
    alternative();
    while (accept(T_OR)) {
      const alt1 = pop();
      alternative();
      const alt2 = pop();
      const end = b.insert(OP_DUMMY);
      alt1.append(end);
      alt2.append(end);
      const seq = new Seq(b, b.insert(OP_ALT, alt2.start, alt1.start), end);
      const f1 = alt1.frag;
      const f2 = alt2.frag;
      seq.frag = {
        js: `${f1.js}|${f2.js}`,
        nullable: f1.nullable || f2.nullable,
        groups: f1.groups + f2.groups,
        isGroup: false,
        safe: f1.safe && f2.safe,
        alt: true,
        caret: f1.caret || f2.caret,
        quant: f1.quant || f2.quant,
        unbounded: f1.unbounded + f2.unbounded,
        nested: f1.nested || f2.nested,
      };
      stack.push(seq);
    }
  };

  // libstdc++ recurses once per term; the states come out the same when done in a loop.
  const alternative = (): void => {
    const terms: Seq[] = [];
    while (term()) terms.push(pop());
    const tail = new Seq(b, b.insert(OP_DUMMY));
    if (terms.length === 0) {
      stack.push(tail);
      return;
    }
    const frag: Frag =
      terms.length === 1
        ? terms[0]!.frag
        : {
            js: terms.map((t) => (t.frag.alt ? `(?:${t.frag.js})` : t.frag.js)).join(''),
            nullable: terms.every((t) => t.frag.nullable),
            groups: terms.reduce((n, t) => n + t.frag.groups, 0),
            isGroup: false,
            safe: terms.every((t) => t.frag.safe),
            alt: terms.some((t) => t.frag.alt),
            caret: terms.some((t) => t.frag.caret),
            quant: terms.some((t) => t.frag.quant),
            unbounded: terms.reduce((n, t) => n + t.frag.unbounded, 0),
            nested: terms.some((t) => t.frag.nested),
          };
    // Appending right to left, as the recursion unwinds.
    let acc = tail;
    for (let i = terms.length - 1; i >= 0; i--) {
      const t = terms[i]!;
      t.appendSeq(acc);
      acc = t;
    }
    acc.frag = frag;
    stack.push(acc);
  };

  const term = (): boolean => {
    if (assertion()) return true;
    if (atom()) {
      while (quantifier());
      return true;
    }
    return false;
  };

  const assertion = (): boolean => {
    let seq: Seq;
    if (accept(T_LINE_BEGIN)) {
      seq = new Seq(b, b.insert(OP_LINE_BEGIN));
      seq.frag = { ...plainFrag('^', true), caret: true };
    } else if (accept(T_LINE_END)) {
      seq = new Seq(b, b.insert(OP_LINE_END));
      seq.frag = plainFrag('$', true);
    } else return false;
    stack.push(seq);
    return true;
  };

  /**
   * The fragment of `f` under a quantifier. ECMAScript and libstdc++ agree on it only when
   * every iteration consumes input (no empty-iteration rules) and no capture group sits inside
   * the repeated part other than the part itself (ECMAScript resets those at each iteration).
   */
  const quantified = (f: Frag, q: string, nullable: boolean): Frag => ({
    js: `(?:${f.js})${q}`,
    nullable,
    groups: f.groups,
    isGroup: false,
    safe: f.safe && !f.nullable && (f.groups === 0 || (f.isGroup && f.groups === 1)),
    alt: f.alt,
    caret: f.caret,
    quant: true,
    unbounded: f.unbounded + (q === '*' || q === '+' || q.endsWith(',}') ? 1 : 0),
    nested: f.nested || f.alt || f.quant,
  });

  const quantifier = (): boolean => {
    if (accept(T_STAR)) {
      const e = pop();
      const r = new Seq(b, b.insert(OP_REPEAT, -1, e.start));
      e.appendSeq(r);
      r.frag = quantified(e.frag, '*', true);
      stack.push(r);
    } else if (accept(T_PLUS)) {
      const e = pop();
      e.append(b.insert(OP_REPEAT, -1, e.start));
      e.frag = quantified(e.frag, '+', e.frag.nullable);
      stack.push(e);
    } else if (accept(T_OPT)) {
      const e = pop();
      const end = b.insert(OP_DUMMY);
      const r = new Seq(b, b.insert(OP_REPEAT, -1, e.start));
      e.append(end);
      r.append(end);
      r.frag = quantified(e.frag, '?', true);
      stack.push(r);
    } else if (accept(T_INTERVAL_BEGIN)) {
      if (!accept(T_DUP_COUNT)) throw new RegexSyntaxError();
      const r = pop();
      const e = new Seq(b, b.insert(OP_DUMMY));
      const minRep = braceCount(value);
      let infinite = false;
      let n = 0;
      if (accept(T_COMMA)) {
        if (accept(T_DUP_COUNT)) n = braceCount(value) - minRep;
        else infinite = true;
      }
      if (!accept(T_INTERVAL_END)) throw new RegexSyntaxError();
      for (let i = 0; i < minRep; i++) e.appendSeq(r.clone());
      if (infinite) {
        const tmp = r.clone();
        const s = new Seq(b, b.insert(OP_REPEAT, -1, tmp.start));
        tmp.appendSeq(s);
        e.appendSeq(s);
      } else {
        if (n < 0) throw new RegexSyntaxError();
        const end = b.insert(OP_DUMMY);
        const swaps: number[] = [];
        for (let i = 0; i < n; i++) {
          const tmp = r.clone();
          const alt = b.insert(OP_REPEAT, tmp.start, end);
          swaps.push(alt);
          e.appendSeq(new Seq(b, alt, tmp.end));
        }
        e.append(end);
        // "match more" must be the alt branch: swap next and alt of the nodes just made.
        for (const id of swaps) {
          const t = b.next[id]!;
          b.next[id] = b.alt[id]!;
          b.alt[id] = t;
        }
      }
      const q = infinite ? `{${minRep},}` : `{${minRep},${minRep + n}}`;
      e.frag = quantified(r.frag, q, minRep === 0 || r.frag.nullable);
      // Large counts are slow to compile in V8; counts that wrapped around in libstdc++ are
      // odd: both are left to the NFA.
      if (minRep < 0 || minRep > 1000 || n > 1000) e.frag.safe = false;
      stack.push(e);
    } else return false;
    return true;
  };

  const atom = (): boolean => {
    if (accept(T_ANY)) {
      const t = new Uint8Array(256).fill(1);
      t[0] = 0;
      stack.push(matcherSeq(t));
    } else if (accept(T_ORD)) {
      const t = new Uint8Array(256);
      t[value.charCodeAt(0) & 0xff] = 1;
      stack.push(matcherSeq(t));
    } else if (accept(T_SUB_BEGIN)) {
      const r = new Seq(b, b.subBegin());
      disjunction();
      if (!accept(T_SUB_END)) throw new RegexSyntaxError();
      const inner = pop();
      r.appendSeq(inner);
      r.append(b.subEnd());
      r.frag = { ...inner.frag, js: `(${inner.frag.js})`, groups: inner.frag.groups + 1, isGroup: true };
      stack.push(r);
    } else if (accept(T_BRACKET_NEG_BEGIN)) bracket(true);
    else if (accept(T_BRACKET_BEGIN)) bracket(false);
    else return false;
    return true;
  };

  const matcherSeq = (t: Uint8Array): Seq => {
    const seq = new Seq(b, b.matcher(t));
    seq.frag = plainFrag(classSource(t));
    return seq;
  };

  const bracket = (negated: boolean): void => {
    const m = new Bracket(negated);
    // The last single char seen (-1: none; -2: the last thing was a class).
    let last = -1;
    const pushChar = (c: number): void => {
      if (last >= 0) m.addChar(last);
      last = c;
    };
    const pushClass = (): void => {
      if (last >= 0) m.addChar(last);
      last = -2;
    };
    if (accept(T_ORD)) last = value.charCodeAt(0);
    else if (accept(T_BRACKET_DASH)) last = 0x2d;
    for (;;) {
      if (accept(T_BRACKET_END)) break;
      if (accept(T_COLLSYM)) {
        const c = lookupCollate(value);
        m.addChar(c);
        pushChar(c);
      } else if (accept(T_EQUIV_NAME)) {
        pushClass();
        m.addEquivalence(value);
      } else if (accept(T_CLASS_NAME)) {
        pushClass();
        m.addClass(value);
      } else if (accept(T_ORD)) pushChar(value.charCodeAt(0));
      else if (accept(T_BRACKET_DASH)) {
        if (accept(T_BRACKET_END)) {
          pushChar(0x2d);
          break;
        } else if (last === -2) throw new RegexSyntaxError();
        else if (last >= 0) {
          if (accept(T_ORD)) m.addRange(last, value.charCodeAt(0));
          else if (accept(T_BRACKET_DASH)) m.addRange(last, 0x2d);
          else throw new RegexSyntaxError();
          last = -1;
        } else throw new RegexSyntaxError();
      } else throw new RegexSyntaxError();
    }
    if (last >= 0) m.addChar(last);
    stack.push(matcherSeq(m.table()));
  };

  // The whole pattern is subexpression 0, then accept.
  const r = new Seq(b, b.subBegin());
  disjunction();
  if (!accept(T_EOF)) throw new RegexSyntaxError();
  const body = pop();
  r.appendSeq(body);
  r.append(b.subEnd());
  r.append(b.insert(OP_ACCEPT));

  // Skip dummy states (libstdc++'s _M_eliminate_dummy).
  const n = b.op.length;
  for (let i = 0; i < n; i++) {
    while (b.next[i]! >= 0 && b.op[b.next[i]!] === OP_DUMMY) b.next[i] = b.next[b.next[i]!]!;
    if (b.hasAlt(i)) while (b.alt[i]! >= 0 && b.op[b.alt[i]!] === OP_DUMMY) b.alt[i] = b.next[b.alt[i]!]!;
  }
  const nfa = {
    op: Uint8Array.from(b.op),
    next: Int32Array.from(b.next),
    alt: Int32Array.from(b.alt),
    arg: Int32Array.from(b.arg),
    tables: b.tables,
    start: r.start,
    subCount: b.subCount,
    firstBytes: null as Uint8Array | null,
  };
  if (n !== nfa.op.length) throw new Error('internal error: regex state count');
  nfa.firstBytes = firstBytes(nfa);
  return { nfa, frag: body.frag };
}

const hex2 = (b: number): string => '\\x' + b.toString(16).padStart(2, '0');

/** An ECMAScript character class (or single escaped char) matching the bytes of a table. */
function classSource(t: Uint8Array): string {
  const parts: string[] = [];
  let count = 0;
  for (let i = 0; i < 256; ) {
    if (!t[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < 256 && t[j + 1]) j++;
    parts.push(j === i ? hex2(i) : `${hex2(i)}-${hex2(j)}`);
    count += j - i + 1;
    i = j + 1;
  }
  return count === 1 ? parts[0]! : `[${parts.join('')}]`;
}

/**
 * The JS RegExps that answer exactly as the NFA would, when the pattern allows:
 * `exact` for `match` (ECMAScript's backtracking order is libstdc++'s depth-first order, and a
 * whole-string match cannot be beaten by a longer one, so alternations are fine), and
 * `search` for `split` (also needs: no alternation, where libstdc++ keeps the longest; no `^`,
 * whose meaning after an empty match differs; no empty match at all).
 */
function fastPaths(frag: Frag): { exact: RegExp | null; search: RegExp | null; risky: boolean } {
  const risky = frag.nested || frag.unbounded >= 3;
  if (!frag.safe) return { exact: null, search: null, risky };
  try {
    const exact = new RegExp(`^(?:${frag.js})$`);
    const search = !frag.alt && !frag.caret && !frag.nullable ? new RegExp(frag.js, 'g') : null;
    return { exact, search, risky };
  } catch {
    return { exact: null, search: null, risky };
  }
}

/**
 * The bytes a match can begin with, found by following empty transitions from the start;
 * null if a match can be empty (then every position must be tried). Used only to skip start
 * positions where no match can begin, which does not change any result.
 */
function firstBytes(nfa: Omit<Nfa, 'firstBytes'>): Uint8Array | null {
  const set = new Uint8Array(256);
  const seen = new Uint8Array(nfa.op.length);
  const work = [nfa.start];
  while (work.length > 0) {
    const s = work.pop()!;
    if (s < 0 || seen[s]) continue;
    seen[s] = 1;
    switch (nfa.op[s]) {
      case OP_ACCEPT:
        return null;
      case OP_MATCH: {
        const t = nfa.tables[nfa.arg[s]!]!;
        for (let i = 0; i < 256; i++) if (t[i]) set[i] = 1;
        break;
      }
      case OP_ALT:
      case OP_REPEAT:
        work.push(nfa.alt[s]!, nfa.next[s]!);
        break;
      default:
        work.push(nfa.next[s]!);
    }
  }
  return set;
}

// ---------------------------------------------------------------------------------------------
// The matcher: libstdc++'s depth-first _Executor, with an explicit stack of tasks in place of
// recursion. A task is four ints: kind and three arguments.

const MODE_EXACT = 0;
const MODE_PREFIX = 1;

/** The largest (subject length + 1) × states table `prepare` builds (bytes). */
const VIABLE_BUDGET = 1 << 24;

const K_VISIT = 0; // (state, pos)
const K_RESTORE_FIRST = 1; // (sub, oldFirst)
const K_RESTORE_END = 2; // (sub, oldSecond, oldMatched)
const K_ALT_RHS = 3; // (state, pos): after the left side of an alternation
const K_ALT_MERGE = 4; // (savedHasSol)
const K_REP_RESTORE = 5; // (state, oldPos, oldCount)
const K_REP_DEC = 6; // (state)
const K_REP_NEXT = 7; // (state, pos): after the "once more" branch of a repeat

class Matcher {
  private readonly subs: number;
  private readonly curFirst: Int32Array;
  private readonly curSecond: Int32Array;
  private readonly curMatched: Uint8Array;
  readonly bestFirst: Int32Array;
  readonly bestSecond: Int32Array;
  private readonly bestMatched: Uint8Array;
  private readonly repPos: Int32Array;
  private readonly repCount: Int32Array;
  private stack: Int32Array = new Int32Array(1024);
  private s = '';
  /**
   * `viable[pos * states + st]` is 0 when no path from state `st` at `pos` can reach an
   * accept (see `prepare`); null when not computed (subject too long for the budget).
   */
  private viable: Uint8Array | null = null;
  private viableBuf: Uint8Array = new Uint8Array(0);
  /** Epsilon predecessors of each state, for `prepare` (built on first use). */
  private preds: number[][] | null = null;
  /** The MATCH states and the ACCEPT state. */
  private matchStates: number[] = [];
  private acceptState = -1;

  constructor(private readonly nfa: Nfa) {
    this.subs = nfa.subCount;
    this.curFirst = new Int32Array(this.subs);
    this.curSecond = new Int32Array(this.subs);
    this.curMatched = new Uint8Array(this.subs);
    this.bestFirst = new Int32Array(this.subs);
    this.bestSecond = new Int32Array(this.subs);
    this.bestMatched = new Uint8Array(this.subs);
    this.repPos = new Int32Array(nfa.op.length);
    this.repCount = new Int32Array(nfa.op.length);
  }

  /** Sets the subject of the following runs. */
  reset(s: string): void {
    this.s = s;
    this.bestMatched.fill(0);
    this.viable = null;
  }

  /**
   * Computes, backwards over the subject, which (state, position) pairs can still reach an
   * accept in `mode`, ignoring the repeat-count limits and treating `^` as always passable:
   * an over-approximation of the paths the depth-first search can take. Exploring only
   * viable pairs therefore finds the same solutions in the same order; it just skips dead
   * ends, which turns Nix's exponential failures (`(a|a)*b` on `aaaa…c`) into linear ones.
   */
  prepare(mode: number): void {
    const { op, next, alt, tables } = this.nfa;
    const m = op.length;
    const s = this.s;
    const n = s.length;
    if ((n + 1) * m > VIABLE_BUDGET) return;
    let preds = this.preds;
    if (!preds) {
      preds = Array.from({ length: m }, () => []);
      for (let st = 0; st < m; st++) {
        const o = op[st];
        if (o === OP_MATCH) this.matchStates.push(st);
        if (o === OP_ACCEPT) this.acceptState = st;
        if (o === OP_MATCH || o === OP_ACCEPT) continue;
        if (next[st]! >= 0) preds[next[st]!]!.push(st);
        if ((o === OP_ALT || o === OP_REPEAT) && alt[st]! >= 0) preds[alt[st]!]!.push(st);
      }
      this.preds = preds;
    }
    const size = (n + 1) * m;
    if (this.viableBuf.length < size) this.viableBuf = new Uint8Array(Math.max(size, this.viableBuf.length * 2));
    const viable = this.viableBuf;
    viable.fill(0, 0, size);
    const work: number[] = [];
    const matchStates = this.matchStates;
    const arg = this.nfa.arg;
    for (let p = n; p >= 0; p--) {
      const base = p * m;
      if (mode === MODE_PREFIX || p === n) {
        viable[base + this.acceptState] = 1;
        work.push(this.acceptState);
      }
      if (p < n) {
        const c = s.charCodeAt(p);
        for (const st of matchStates) {
          if (tables[arg[st]!]![c] === 1 && viable[base + m + next[st]!] === 1) {
            viable[base + st] = 1;
            work.push(st);
          }
        }
      }
      while (work.length > 0) {
        const t = work.pop()!;
        for (const u of preds[t]!) {
          if (viable[base + u]) continue;
          if (op[u] === OP_LINE_END && p !== n) continue;
          viable[base + u] = 1;
          work.push(u);
        }
      }
    }
    this.viable = viable;
  }

  /** Whether a match can start at `begin` at all (false only when surely not). */
  canStart(begin: number): boolean {
    return this.viable === null || this.viable[begin * this.nfa.op.length + this.nfa.start] === 1;
  }

  /** The capture groups 1.. of the last successful run. */
  captures(): (string | null)[] {
    const out: (string | null)[] = [];
    for (let i = 1; i < this.subs; i++)
      out.push(this.bestMatched[i] ? this.s.slice(this.bestFirst[i], this.bestSecond[i]) : null);
    return out;
  }

  /** regex_search from `begin` (std::__detail::_Executor::_M_search). */
  search(begin: number, prevAvail: boolean, notNull: boolean, continuous: boolean): boolean {
    this.bestMatched.fill(0);
    if (this.canStart(begin) && this.run(begin, MODE_PREFIX, prevAvail, notNull)) return true;
    if (continuous) return false;
    const fb = this.nfa.firstBytes;
    const s = this.s;
    const n = s.length;
    while (begin !== n) {
      begin++;
      if (fb && (begin === n || !fb[s.charCodeAt(begin)])) continue;
      if (!this.canStart(begin)) continue;
      if (this.run(begin, MODE_PREFIX, true, notNull)) return true;
    }
    return false;
  }

  private grow(): Int32Array {
    const bigger = new Int32Array(this.stack.length * 2);
    bigger.set(this.stack);
    this.stack = bigger;
    return bigger;
  }

  /**
   * One depth-first exploration from `begin` (_M_main_dispatch for the DFS executor). The
   * stack holds tasks of four ints; a visit pushes at most three tasks.
   */
  run(begin: number, mode: number, prevAvail: boolean, notNull: boolean): boolean {
    const { op, next, alt, arg, tables } = this.nfa;
    const s = this.s;
    const end = s.length;
    const viable = this.viable;
    const states = op.length;
    const curFirst = this.curFirst;
    const curSecond = this.curSecond;
    const curMatched = this.curMatched;
    const repPos = this.repPos;
    const repCount = this.repCount;
    curMatched.fill(0);
    let hasSol = false;
    let solPos = -1;
    let found = false;
    let stopped = false;
    let stack = this.stack;
    let sp = 0;
    stack[sp++] = K_VISIT;
    stack[sp++] = this.nfa.start;
    stack[sp++] = begin;
    stack[sp++] = 0;
    while (sp > 0) {
      sp -= 4;
      const k = stack[sp]!;
      const a = stack[sp + 1]!;
      const b = stack[sp + 2]!;
      if (k === K_VISIT) {
        if (sp + 12 > stack.length) stack = this.grow();
        const st = a;
        const pos = b;
        // a dead end: nothing from here can reach an accept (see `prepare`)
        if (viable !== null && viable[pos * states + st] === 0) continue;
        switch (op[st]) {
          case OP_MATCH:
            if (pos < end && tables[arg[st]!]![s.charCodeAt(pos)] === 1) {
              stack[sp] = K_VISIT;
              stack[sp + 1] = next[st]!;
              stack[sp + 2] = pos + 1;
              sp += 4;
            }
            break;
          case OP_REPEAT:
            stack[sp] = K_REP_NEXT;
            stack[sp + 1] = st;
            stack[sp + 2] = pos;
            sp += 4;
            if (repCount[st] === 0 || repPos[st] !== pos) {
              stack[sp] = K_REP_RESTORE;
              stack[sp + 1] = st;
              stack[sp + 2] = repPos[st]!;
              stack[sp + 3] = repCount[st]!;
              sp += 4;
              repPos[st] = pos;
              repCount[st] = 1;
            } else if (repCount[st]! < 2) {
              repCount[st]!++;
              stack[sp] = K_REP_DEC;
              stack[sp + 1] = st;
              sp += 4;
            } else break;
            stack[sp] = K_VISIT;
            stack[sp + 1] = alt[st]!;
            stack[sp + 2] = pos;
            sp += 4;
            break;
          case OP_ALT:
            stack[sp] = K_ALT_RHS;
            stack[sp + 1] = st;
            stack[sp + 2] = pos;
            stack[sp + 4] = K_VISIT;
            stack[sp + 5] = alt[st]!;
            stack[sp + 6] = pos;
            sp += 8;
            break;
          case OP_SUB_BEGIN: {
            const i = arg[st]!;
            stack[sp] = K_RESTORE_FIRST;
            stack[sp + 1] = i;
            stack[sp + 2] = curFirst[i]!;
            stack[sp + 4] = K_VISIT;
            stack[sp + 5] = next[st]!;
            stack[sp + 6] = pos;
            sp += 8;
            curFirst[i] = pos;
            break;
          }
          case OP_SUB_END: {
            const i = arg[st]!;
            stack[sp] = K_RESTORE_END;
            stack[sp + 1] = i;
            stack[sp + 2] = curSecond[i]!;
            stack[sp + 3] = curMatched[i]!;
            stack[sp + 4] = K_VISIT;
            stack[sp + 5] = next[st]!;
            stack[sp + 6] = pos;
            sp += 8;
            curSecond[i] = pos;
            curMatched[i] = 1;
            break;
          }
          case OP_LINE_BEGIN:
            if (pos === begin && !prevAvail) {
              stack[sp] = K_VISIT;
              stack[sp + 1] = next[st]!;
              stack[sp + 2] = pos;
              sp += 4;
            }
            break;
          case OP_LINE_END:
            if (pos === end) {
              stack[sp] = K_VISIT;
              stack[sp + 1] = next[st]!;
              stack[sp + 2] = pos;
              sp += 4;
            }
            break;
          case OP_ACCEPT:
            hasSol = mode === MODE_EXACT ? pos === end : true;
            if (pos === begin && notNull) hasSol = false;
            if (hasSol && (solPos < 0 || solPos - begin < pos - begin)) {
              solPos = pos;
              found = true;
              this.bestFirst.set(curFirst);
              this.bestSecond.set(curSecond);
              this.bestMatched.set(curMatched);
              // Nothing later can be strictly longer: stop exploring.
              if (pos === end) {
                sp = 0;
                stopped = true;
              }
            }
            break;
          default:
            stack[sp] = K_VISIT;
            stack[sp + 1] = next[st]!;
            stack[sp + 2] = pos;
            sp += 4;
        }
      } else {
        switch (k) {
          case K_RESTORE_FIRST:
            curFirst[a] = b;
            break;
          case K_RESTORE_END:
            curSecond[a] = b;
            curMatched[a] = stack[sp + 3]!;
            break;
          case K_ALT_RHS:
            if (sp + 8 > stack.length) stack = this.grow();
            stack[sp] = K_ALT_MERGE;
            stack[sp + 1] = hasSol ? 1 : 0;
            stack[sp + 4] = K_VISIT;
            stack[sp + 5] = next[a]!;
            stack[sp + 6] = b;
            sp += 8;
            hasSol = false;
            break;
          case K_ALT_MERGE:
            if (a) hasSol = true;
            break;
          case K_REP_RESTORE:
            repPos[a] = b;
            repCount[a] = stack[sp + 3]!;
            break;
          case K_REP_DEC:
            repCount[a]!--;
            break;
          case K_REP_NEXT:
            if (!hasSol) {
              stack[sp] = K_VISIT;
              stack[sp + 1] = next[a]!;
              stack[sp + 2] = b;
              sp += 4;
            }
            break;
        }
      }
    }
    // An early stop skips the restore tasks: reset what they would have restored.
    if (stopped) repCount.fill(0);
    return found;
  }
}
