// eval/lib/json: JSON text as Nix 2.8 reads it (`builtins.fromJSON`, nlohmann::json's SAX
// parser) and the string quoting of `builtins.toJSON`. It owns the lexer (ported for its
// error messages: positions, "last read" text and token names are nlohmann's, as Nix shows
// them) and the conversions Nix applies (ints wrap to int64, NUL truncates a string value,
// the last duplicate key wins). It never sees evaluator values: it returns a plain tree, and
// strings are latin1 "byte strings" (one char = one byte, UTF-8 inside).

import { ImgError } from '../../base/error.js';

/** A float, kept apart from ints so that `1.0` stays a float. */
export class JsonFloat {
  constructor(readonly value: number) {}
}

/** A JSON object: keys (byte strings) in first-seen order, the last duplicate's value. */
export class JsonObject {
  constructor(readonly entries: Map<string, JsonTree>) {}
}

/**
 * A parsed JSON value. Ints are exact int64: a JS number when it is a safe integer, a bigint
 * otherwise (the evaluator's convention). Floats are `JsonFloat`.
 */
export type JsonTree = null | boolean | number | bigint | JsonFloat | string | JsonTree[] | JsonObject;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** An int64 as the evaluator stores it: a number when safe, else a bigint. */
function intValue(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

// Tokens (nlohmann's token_type), with the names its messages use.
const enum Tok {
  Uninitialized,
  True,
  False,
  Null,
  String,
  Unsigned,
  Integer,
  Float,
  BeginArray,
  BeginObject,
  EndArray,
  EndObject,
  NameSeparator,
  ValueSeparator,
  ParseError,
  EndOfInput,
  LiteralOrValue,
}

function tokenName(t: Tok): string {
  switch (t) {
    case Tok.Uninitialized:
      return '<uninitialized>';
    case Tok.True:
      return 'true literal';
    case Tok.False:
      return 'false literal';
    case Tok.Null:
      return 'null literal';
    case Tok.String:
      return 'string literal';
    case Tok.Unsigned:
    case Tok.Integer:
    case Tok.Float:
      return 'number literal';
    case Tok.BeginArray:
      return "'['";
    case Tok.BeginObject:
      return "'{'";
    case Tok.EndArray:
      return "']'";
    case Tok.EndObject:
      return "'}'";
    case Tok.NameSeparator:
      return "':'";
    case Tok.ValueSeparator:
      return "','";
    case Tok.ParseError:
      return '<parse error>';
    case Tok.EndOfInput:
      return 'end of input';
    case Tok.LiteralOrValue:
      return "'[', '{', or a literal";
  }
}

/** The names nlohmann gives the control characters in its error messages. */
const CONTROL_NAMES = [
  'NUL', 'SOH', 'STX', 'ETX', 'EOT', 'ENQ', 'ACK', 'BEL', 'BS', 'HT', 'LF', 'VT', 'FF', 'CR', 'SO',
  'SI', 'DLE', 'DC1', 'DC2', 'DC3', 'DC4', 'NAK', 'SYN', 'ETB', 'CAN', 'EM', 'SUB', 'ESC', 'FS',
  'GS', 'RS', 'US',
];
const CONTROL_SHORT: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r' };

const EOF = -1;
const hex4 = (c: number): string => c.toString(16).toUpperCase().padStart(4, '0');

/** The size of the lexer's table of short strings (a power of two). */
const INTERNED = 4096;

/** nlohmann's lexer over a byte string, keeping its position and "last read" bookkeeping. */
class Lexer {
  private i = 0;
  private current = EOF;
  private nextUnget = false;
  charsTotal = 0;
  charsLine = 0;
  lines = 0;
  /**
   * Where the bytes read since the last token reset (nlohmann's token_string, for "last read")
   * start: they are always `s[tokenStart .. tokenEnd())`, so they are not copied as they are read.
   */
  private tokenStart = 0;
  /** The decoded number when it is a safe integer (<= 15 digits), else NaN: see numberInt. */
  numberSafe = NaN;
  /** Whether the string just read holds a NUL byte (from `\u0000`: raw control bytes are errors). */
  hasNul = false;
  /** The decoded token (string contents, or number text except for short plain integers). */
  buffer = '';
  errorMessage = '';
  numberInt = 0n;
  numberFloat = 0;

  /** Short plain strings read so far, by hash (see scanString). */
  private readonly interned = new Array<string>(INTERNED).fill('');

  constructor(private readonly s: string) {}

  private get(): number {
    this.charsTotal++;
    this.charsLine++;
    if (this.nextUnget) this.nextUnget = false;
    else this.current = this.i < this.s.length ? this.s.charCodeAt(this.i++) & 0xff : EOF;
    if (this.current === 0x0a) {
      this.lines++;
      this.charsLine = 0;
    }
    return this.current;
  }

  private unget(): void {
    this.nextUnget = true;
    this.charsTotal--;
    if (this.charsLine === 0) {
      if (this.lines > 0) this.lines--;
    } else this.charsLine--;
  }

  private reset(): void {
    this.buffer = '';
    // `current` was just read (never EOF here, never pending an unget): it is s[i - 1]
    this.tokenStart = this.i - 1;
  }

  /** The last token's text for messages, control characters as `<U+XXXX>`. */
  tokenText(): string {
    let out = '';
    const end = this.tokenEnd();
    for (let k = this.tokenStart; k < end; k++) {
      const c = this.s.charCodeAt(k) & 0xff;
      out += c <= 0x1f ? `<U+${hex4(c)}>` : String.fromCharCode(c);
    }
    return out;
  }

  /** The end of the token's bytes: an ungot byte (not EOF) is no longer part of them. */
  private tokenEnd(): number {
    return this.nextUnget && this.current !== EOF ? this.i - 1 : this.i;
  }

  private skipBom(): boolean {
    if (this.get() === 0xef) return this.get() === 0xbb && this.get() === 0xbf;
    this.unget();
    return true;
  }

  scan(): Tok {
    if (this.charsTotal === 0 && !this.skipBom()) {
      this.errorMessage = 'invalid BOM; must be 0xEF 0xBB 0xBF if given';
      return Tok.ParseError;
    }
    let c: number;
    do c = this.get();
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d);
    switch (c) {
      case 0x5b:
        return Tok.BeginArray;
      case 0x5d:
        return Tok.EndArray;
      case 0x7b:
        return Tok.BeginObject;
      case 0x7d:
        return Tok.EndObject;
      case 0x3a:
        return Tok.NameSeparator;
      case 0x2c:
        return Tok.ValueSeparator;
      case 0x74:
        return this.scanLiteral('true', Tok.True);
      case 0x66:
        return this.scanLiteral('false', Tok.False);
      case 0x6e:
        return this.scanLiteral('null', Tok.Null);
      case 0x22:
        return this.scanString();
      case 0x00:
      case EOF:
        return Tok.EndOfInput;
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.scanNumber();
        this.errorMessage = 'invalid literal';
        return Tok.ParseError;
    }
  }

  private scanLiteral(text: string, tok: Tok): Tok {
    for (let k = 1; k < text.length; k++) {
      if (this.get() !== text.charCodeAt(k)) {
        this.errorMessage = 'invalid literal';
        return Tok.ParseError;
      }
    }
    return tok;
  }

  private codepoint(): number {
    let cp = 0;
    for (const shift of [12, 8, 4, 0]) {
      const c = this.get();
      if (c >= 0x30 && c <= 0x39) cp += (c - 0x30) << shift;
      else if (c >= 0x41 && c <= 0x46) cp += (c - 0x37) << shift;
      else if (c >= 0x61 && c <= 0x66) cp += (c - 0x57) << shift;
      else return -1;
    }
    return cp;
  }

  /**
   * Reads the continuation bytes of a UTF-8 sequence, each within its inclusive range (one
   * pair per byte); returns the whole sequence, or null (with the message set) when a byte is
   * out of range.
   */
  private bytesInRange(first: number, ranges: number[]): string | null {
    let out = String.fromCharCode(first);
    for (let k = 0; k < ranges.length; k += 2) {
      const c = this.get();
      if (c < ranges[k]! || c > ranges[k + 1]!) {
        this.errorMessage = 'invalid string: ill-formed UTF-8 byte';
        return null;
      }
      out += String.fromCharCode(c);
    }
    return out;
  }

  private scanString(): Tok {
    this.reset();
    this.hasNul = false;
    let run = '';
    const s = this.s;
    const len = s.length;
    for (;;) {
      // Fast path: a run of plain bytes (printable ASCII but quote and backslash) is taken as one
      // slice, with the same bookkeeping as byte-by-byte `get()` (no newline can be in it).
      if (!this.nextUnget) {
        const start = this.i;
        let j = start;
        let d = 0;
        let h = 0;
        while (j < len) {
          d = s.charCodeAt(j);
          if (d < 0x20 || d > 0x7f || d === 0x22 || d === 0x5c) break;
          h = (Math.imul(h, 31) + d) | 0;
          j++;
        }
        if (j > start) {
          const n = j - start;
          this.charsTotal += n;
          this.charsLine += n;
          this.current = s.charCodeAt(j - 1);
          this.i = j;
          if (run === '' && d === 0x22 && n <= 32) {
            // a short string of plain bytes only (keys mostly): the same text read before
            // (found by its hash) is shared, not copied again
            const slot = h & (INTERNED - 1);
            const seen = this.interned[slot]!;
            if (seen.length === n && s.startsWith(seen, start)) run = seen;
            else run = this.interned[slot] = s.slice(start, j);
          } else run += n === len ? s : s.slice(start, j);
        }
      }
      const c = this.get();
      if (c === EOF) {
        this.errorMessage = 'invalid string: missing closing quote';
        return Tok.ParseError;
      }
      if (c === 0x22) {
        this.buffer = run;
        return Tok.String;
      }
      if (c === 0x5c) {
        const e = this.get();
        let add: string;
        switch (e) {
          case 0x22:
            add = '"';
            break;
          case 0x5c:
            add = '\\';
            break;
          case 0x2f:
            add = '/';
            break;
          case 0x62:
            add = '\b';
            break;
          case 0x66:
            add = '\f';
            break;
          case 0x6e:
            add = '\n';
            break;
          case 0x72:
            add = '\r';
            break;
          case 0x74:
            add = '\t';
            break;
          case 0x75: {
            const cp1 = this.codepoint();
            let cp = cp1;
            if (cp1 === -1) {
              this.errorMessage = "invalid string: '\\u' must be followed by 4 hex digits";
              return Tok.ParseError;
            }
            if (cp1 >= 0xd800 && cp1 <= 0xdbff) {
              if (this.get() === 0x5c && this.get() === 0x75) {
                const cp2 = this.codepoint();
                if (cp2 === -1) {
                  this.errorMessage = "invalid string: '\\u' must be followed by 4 hex digits";
                  return Tok.ParseError;
                }
                if (cp2 >= 0xdc00 && cp2 <= 0xdfff) cp = ((cp1 - 0xd800) << 10) + (cp2 - 0xdc00) + 0x10000;
                else {
                  this.errorMessage = 'invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF';
                  return Tok.ParseError;
                }
              } else {
                this.errorMessage = 'invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF';
                return Tok.ParseError;
              }
            } else if (cp1 >= 0xdc00 && cp1 <= 0xdfff) {
              this.errorMessage = 'invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF';
              return Tok.ParseError;
            }
            if (cp === 0) this.hasNul = true;
            add = utf8(cp);
            break;
          }
          default:
            this.errorMessage = 'invalid string: forbidden character after backslash';
            return Tok.ParseError;
        }
        run += add;
        continue;
      }
      if (c <= 0x1f) {
        const short = CONTROL_SHORT[c];
        this.errorMessage =
          `invalid string: control character U+${hex4(c)} (${CONTROL_NAMES[c]}) must be escaped to ` +
          `\\u${hex4(c)}${short ? ` or \\${short}` : ''}`;
        return Tok.ParseError;
      }
      if (c <= 0x7f) {
        run += String.fromCharCode(c);
        continue;
      }
      // UTF-8 sequences are checked byte by byte, as nlohmann does.
      let seq: string | null = null;
      if (c >= 0xc2 && c <= 0xdf) seq = this.bytesInRange(c, [0x80, 0xbf]);
      else if (c === 0xe0) seq = this.bytesInRange(c, [0xa0, 0xbf, 0x80, 0xbf]);
      else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) seq = this.bytesInRange(c, [0x80, 0xbf, 0x80, 0xbf]);
      else if (c === 0xed) seq = this.bytesInRange(c, [0x80, 0x9f, 0x80, 0xbf]);
      else if (c === 0xf0) seq = this.bytesInRange(c, [0x90, 0xbf, 0x80, 0xbf, 0x80, 0xbf]);
      else if (c >= 0xf1 && c <= 0xf3) seq = this.bytesInRange(c, [0x80, 0xbf, 0x80, 0xbf, 0x80, 0xbf]);
      else if (c === 0xf4) seq = this.bytesInRange(c, [0x80, 0x8f, 0x80, 0xbf, 0x80, 0xbf]);
      else this.errorMessage = 'invalid string: ill-formed UTF-8 byte';
      if (seq === null) return Tok.ParseError;
      run += seq;
    }
  }

  private scanNumber(): Tok {
    this.reset();
    let type = Tok.Unsigned;
    let c = this.current;
    {
      // fast path: 1 to 15 digits, not starting with 0, ended by `,` `]` or `}`: the value is
      // computed as the digits are read, with the state byte-by-byte reading and the unget of
      // the ending byte would leave (no newline is read)
      const s = this.s;
      const len = s.length;
      const from = this.i;
      if (c >= 0x31 && c <= 0x39) {
        let v = c - 0x30;
        let j = from;
        let d = 0;
        while (j < len && (d = s.charCodeAt(j)) >= 0x30 && d <= 0x39 && j - from < 14) {
          v = v * 10 + (d - 0x30);
          j++;
        }
        if (j < len && (d === 0x2c || d === 0x5d || d === 0x7d)) {
          const n = j - from;
          this.charsTotal += n;
          this.charsLine += n;
          this.i = j + 1;
          this.current = d;
          this.nextUnget = true;
          this.buffer = '';
          this.numberSafe = v;
          return Tok.Unsigned;
        }
      }
    }
    const isDigit = (x: number): boolean => x >= 0x30 && x <= 0x39;
    // the state machine of RFC 8259's number grammar
    if (c === 0x2d) {
      type = Tok.Integer;
      c = this.get();
      if (!isDigit(c)) {
        this.errorMessage = "invalid number; expected digit after '-'";
        return Tok.ParseError;
      }
    }
    if (c !== 0x30) while (isDigit((c = this.get())));
    else c = this.get();
    if (c === 0x2e) {
      type = Tok.Float;
      c = this.get();
      if (!isDigit(c)) {
        this.errorMessage = "invalid number; expected digit after '.'";
        return Tok.ParseError;
      }
      while (isDigit(c)) {
        c = this.get();
      }
    }
    if (c === 0x65 || c === 0x45) {
      type = Tok.Float;
      c = this.get();
      if (c === 0x2b || c === 0x2d) {
        c = this.get();
        if (!isDigit(c)) {
          this.errorMessage = 'invalid number; expected digit after exponent sign';
          return Tok.ParseError;
        }
      } else if (!isDigit(c)) {
        this.errorMessage = "invalid number; expected '+', '-', or digit after exponent";
        return Tok.ParseError;
      }
      while (isDigit(c)) {
        c = this.get();
      }
    }
    this.unget();
    // the number's bytes are the token's bytes
    const text = this.s.slice(this.tokenStart, this.tokenEnd());
    this.buffer = text;
    // integers first (strtoull / strtoll), floats when they do not fit (strtod); up to 15
    // characters an integer is a safe JS number (no BigInt needed)
    if (type !== Tok.Float && text.length <= 15) {
      const v = Number(text);
      this.numberSafe = v === 0 ? 0 : v;
      return type;
    }
    this.numberSafe = NaN;
    if (type === Tok.Unsigned) {
      const v = BigInt(text);
      if (v <= UINT64_MAX) {
        this.numberInt = v;
        return Tok.Unsigned;
      }
    } else if (type === Tok.Integer) {
      const v = BigInt(text);
      if (v >= INT64_MIN && v <= INT64_MAX) {
        this.numberInt = v;
        return Tok.Integer;
      }
    }
    this.numberFloat = Number(text);
    return Tok.Float;
  }
}

/** A code point (up to U+10FFFF) as UTF-8 bytes in a byte string. */
export function utf8(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  return String.fromCharCode(
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  );
}

/** Nix 2.8 strings are C strings: a NUL byte (from `\u0000`) ends a string value. */
function cString(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/** What a JSON parse yields for scalars as they are (ints as int64 numbers or bigints). */
export type JsonScalar = null | boolean | number | bigint | string;

/**
 * How `parseJSONWith` makes containers and floats. `object` gets the keys in the order read,
 * duplicates included (the last one's value wins, as in Nix), with their values aligned.
 * The arrays passed are the builder's to keep.
 */
export interface JsonBuilder<T> {
  object(keys: string[], vals: (T | JsonScalar)[]): T;
  array(items: (T | JsonScalar)[]): T;
  float(v: number): T;
}

const TREE_BUILDER: JsonBuilder<JsonTree> = {
  object(keys, vals) {
    const m = new Map<string, JsonTree>();
    for (let i = 0; i < keys.length; i++) m.set(keys[i]!, vals[i]!);
    return new JsonObject(m);
  },
  array: (items) => items,
  float: (v) => new JsonFloat(v),
};

/**
 * Parses a JSON text (a byte string) as Nix 2.8's `builtins.fromJSON` does. Throws ImgError
 * E_EVAL with nlohmann's message, e.g. `[json.exception.parse_error.101] parse error at line 1,
 * column 1: syntax error while parsing value - invalid literal; last read: 'x'`.
 * Nested depth is limited only by memory (no recursion).
 */
export function parseJSON(text: string): JsonTree {
  return parseJSONWith(text, TREE_BUILDER);
}

/**
 * A container being filled: where its values (and, for an object, its keys) start on the
 * parser's value (key) stack; kStart is -1 for an array.
 */
class Frame {
  constructor(
    readonly kStart: number,
    readonly vStart: number,
  ) {}
}

/** `parseJSON`, containers and floats made by `b` (so a caller builds its values directly). */
export function parseJSONWith<T>(text: string, b: JsonBuilder<T>): T | JsonScalar {
  const lx = new Lexer(text);
  let tok = Tok.Uninitialized as Tok;
  const next = (): Tok => (tok = lx.scan());

  const fail = (expected: Tok, context: string): never => {
    let msg = `syntax error while parsing ${context} - `;
    if (tok === Tok.ParseError) msg += `${lx.errorMessage}; last read: '${lx.tokenText()}'`;
    else msg += `unexpected ${tokenName(tok)}`;
    if (expected !== Tok.Uninitialized) msg += `; expected ${tokenName(expected)}`;
    throw new ImgError(
      'E_EVAL',
      `[json.exception.parse_error.101] parse error at line ${lx.lines + 1}, column ${lx.charsLine}: ${msg}`,
    );
  };

  // the values and keys of all open containers, each container's handed over in an array of
  // its exact size when it closes (no per-container array grown by push); the stacks' used
  // parts are [0, vn) and [0, kn) (not truncated when a container closes: setting an array's
  // length is a slow runtime call; entries above are overwritten later)
  const vs: (T | JsonScalar)[] = [];
  const ks: string[] = [];
  let vn = 0;
  let kn = 0;
  const frames: Frame[] = [];
  let top: Frame | undefined;

  next();
  for (;;) {
    // parse a value, starting at the current token
    let v: T | JsonScalar;
    switch (tok) {
      case Tok.BeginObject: {
        const k = next();
        if (k === Tok.EndObject) {
          v = b.object([], []);
          break;
        }
        if (k !== Tok.String) fail(Tok.String, 'object key');
        const key = lx.buffer;
        if (next() !== Tok.NameSeparator) fail(Tok.NameSeparator, 'object separator');
        frames.push((top = new Frame(kn, vn)));
        ks[kn++] = key;
        next();
        continue;
      }
      case Tok.BeginArray: {
        if (next() === Tok.EndArray) {
          v = b.array([]);
          break;
        }
        frames.push((top = new Frame(-1, vn)));
        continue;
      }
      case Tok.Float:
        if (!Number.isFinite(lx.numberFloat))
          throw new ImgError('E_EVAL', `[json.exception.out_of_range.406] number overflow parsing '${lx.tokenText()}'`);
        v = b.float(lx.numberFloat);
        break;
      case Tok.False:
        v = false;
        break;
      case Tok.True:
        v = true;
        break;
      case Tok.Null:
        v = null;
        break;
      case Tok.Integer:
      case Tok.Unsigned:
        v = Number.isNaN(lx.numberSafe) ? intValue(BigInt.asIntN(64, lx.numberInt)) : lx.numberSafe;
        break;
      case Tok.String:
        v = lx.hasNul ? cString(lx.buffer) : lx.buffer;
        break;
      case Tok.ParseError:
        v = fail(Tok.Uninitialized, 'value');
        break;
      default:
        v = fail(Tok.LiteralOrValue, 'value');
    }
    // after a value: store it, then close containers or move to the next element
    for (;;) {
      if (top === undefined) {
        if (next() !== Tok.EndOfInput) fail(Tok.EndOfInput, 'value');
        return v;
      }
      vs[vn++] = v;
      const kStart = top.kStart;
      if (next() === Tok.ValueSeparator) {
        if (kStart >= 0) {
          if (next() !== Tok.String) fail(Tok.String, 'object key');
          ks[kn++] = lx.buffer;
          if (next() !== Tok.NameSeparator) fail(Tok.NameSeparator, 'object separator');
        }
        next();
        break;
      }
      const vStart = top.vStart;
      if (kStart < 0) {
        if (tok !== Tok.EndArray) fail(Tok.EndArray, 'array');
        v = b.array(vs.slice(vStart, vn));
      } else {
        if (tok !== Tok.EndObject) fail(Tok.EndObject, 'object');
        v = b.object(ks.slice(kStart, kn), vs.slice(vStart, vn));
        kn = kStart;
      }
      vn = vStart;
      frames.pop();
      top = frames[frames.length - 1];
    }
  }
}

const JSON_HEX = '0123456789abcdef';

/**
 * A byte string as `builtins.toJSON` quotes it: `"` and `\` escaped, `\n` `\r` `\t` by name,
 * other bytes below 0x20 as `\u00xx`; everything else (0x7f, UTF-8, invalid bytes) raw.
 */
export function quoteJSONString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i);
    start = i + 1;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else out += `\\u00${JSON_HEX[c >> 4]}${JSON_HEX[c & 15]}`;
  }
  return out + s.slice(start) + '"';
}
