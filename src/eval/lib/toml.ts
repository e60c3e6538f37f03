// eval/lib/toml: TOML text as Nix 2.8's `builtins.fromTOML` reads it (toml11 3.7: TOML 1.0,
// with toml11's leniencies and Nix's conversions). It owns the TOML grammar, the table
// bookkeeping (headers, dotted keys, arrays of tables, inline tables) and the value rules:
//   - integers that overflow int64 clamp to its bounds (`9223372036854775808` reads as the
//     maximum), floats that overflow clamp to ±1.79769e+308, `nan`/`-nan` keep their sign;
//   - a dotted key may create a table that a later `[header]` then defines;
//   - any date or time makes the whole document fail with Nix's
//     `while parsing a TOML string: Dates and times are not supported`;
//   - a `\u0000` escape ends a string value (Nix 2.8 strings are C strings); keys keep it.
// Syntax errors are ImgError E_EVAL `while parsing a TOML string: [error] <what>`, where
// `<what>` is toml11's first message line (the same text as Nix in 175 of the 177 error
// goldens and ~92% of fuzzed documents); toml11's multi-line source excerpt is not reproduced.
// It never sees evaluator values: it returns the same plain tree as eval/lib/json (JsonFloat,
// JsonObject), strings as latin1 byte strings.

import { ImgError } from '../../base/error.js';
import { JsonFloat, JsonObject, utf8, type JsonTree } from './json.js';

export { JsonFloat as TomlFloat, JsonObject as TomlTable };
/** A parsed TOML value: the JSON tree shapes (tables are JsonObject, floats JsonFloat). */
export type TomlTree = JsonTree;

class TomlError extends Error {}

/** A table under construction, with how it came to exist (for the redefinition rules). */
class Table {
  readonly map = new Map<string, Node>();
  /** Defined by a `[header]` (or as an element of an array of tables). */
  header = false;
  /** An inline table `{ ... }`: closed to later additions. */
  inline = false;
}

/** An array: a literal `[ ... ]` (static) or an array of tables built by `[[header]]`. */
class ArrayNode {
  constructor(
    readonly items: Node[],
    readonly ofTables: boolean,
  ) {}
}

/** A date or time value: parsed, then refused (Nix has no such type). */
const DATE = Symbol('date');

type Leaf = boolean | number | bigint | JsonFloat | string | typeof DATE;
type Node = Table | ArrayNode | Leaf;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const negativeNaN = (() => {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, 0xfff8000000000000n);
  return v.getFloat64(0);
})();

const isBareKeyChar = (c: number): boolean =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;

class Parser {
  private i = 0;
  sawDate = false;

  constructor(private readonly s: string) {}

  private fail(what: string): never {
    throw new TomlError(what);
  }
  private peek(k = 0): number {
    const j = this.i + k;
    return j < this.s.length ? this.s.charCodeAt(j) : -1;
  }
  private eof(): boolean {
    return this.i >= this.s.length;
  }
  private ws(): void {
    while (this.peek() === 0x20 || this.peek() === 0x09) this.i++;
  }
  /**
   * A comment, if one starts here (its characters: tab, printable ASCII, UTF-8). A bad
   * character is reported as toml11 does: as a bad key on a line of its own, else as a bad
   * line.
   */
  private comment(afterContent = false): void {
    const bad = afterContent ? 'toml::parse_table: invalid line format' : 'toml::parse_key: an invalid key appeared.';
    if (this.peek() !== 0x23) return;
    this.i++;
    for (;;) {
      const c = this.peek();
      if (c === -1 || c === 0x0a || (c === 0x0d && this.peek(1) === 0x0a)) return;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) this.fail(bad);
      if (c >= 0x80) {
        const save = this.i;
        try {
          this.utf8Sequence('toml::parse_comment');
        } catch {
          this.i = save;
          this.fail(bad);
        }
      } else this.i++;
    }
  }
  /** A newline (LF or CRLF) if one is here. */
  private newline(): boolean {
    if (this.peek() === 0x0a) {
      this.i++;
      return true;
    }
    if (this.peek() === 0x0d && this.peek(1) === 0x0a) {
      this.i += 2;
      return true;
    }
    return false;
  }
  /** Whitespace, comments and newlines (inside arrays). */
  private wsCommentNewlines(): void {
    for (;;) {
      this.ws();
      this.comment();
      if (!this.newline()) return;
    }
  }

  parse(): Table {
    const root = new Table();
    root.header = true;
    let current = root;
    // A UTF-8 byte order mark is skipped.
    if (this.s.startsWith('\xef\xbb\xbf')) this.i = 3;
    for (;;) {
      this.ws();
      const c = this.peek();
      let content = true;
      if (c === 0x5b) current = this.tableHeader(root);
      else if (c !== 0x23 && c !== 0x0a && c !== 0x0d && c !== -1) this.keyval(current);
      else content = false;
      this.ws();
      this.comment(content);
      if (this.eof()) return root;
      if (!this.newline()) this.fail('toml::parse_table: invalid line format');
    }
  }

  // ---- keys

  private simpleKey(): string {
    const c = this.peek();
    // (a `"""` reads as an empty key followed by garbage, as in toml11)
    if (c === 0x22) return this.basicString();
    if (c === 0x27) return this.literalString();
    const start = this.i;
    while (isBareKeyChar(this.peek())) this.i++;
    if (this.i === start) this.fail('toml::parse_key: an invalid key appeared.');
    return this.s.slice(start, this.i);
  }

  private key(): string[] {
    const keys = [this.simpleKey()];
    for (;;) {
      const save = this.i;
      this.ws();
      if (this.peek() !== 0x2e) {
        this.i = save;
        return keys;
      }
      this.i++;
      this.ws();
      keys.push(this.simpleKey());
    }
  }

  // ---- tables

  private tableHeader(root: Table): Table {
    const array = this.peek(1) === 0x5b;
    this.i += array ? 2 : 1;
    this.ws();
    const keys = this.key();
    this.ws();
    if (array) {
      if (this.peek() !== 0x5d || this.peek(1) !== 0x5d) this.fail('toml::parse_key: an invalid key appeared.');
      this.i += 2;
    } else {
      if (this.peek() !== 0x5d) this.fail('toml::parse_key: an invalid key appeared.');
      this.i++;
    }
    {
      const save = this.i;
      this.ws();
      const c = this.peek();
      if (c !== -1 && c !== 0x23 && c !== 0x0a && !(c === 0x0d && this.peek(1) === 0x0a))
        this.fail(
          array
            ? 'toml::parse_array_table_key: newline required after [[table.key]]'
            : 'toml::parse_table_key: newline required after [table.key]',
        );
      this.i = save;
    }
    const parent = this.walk(root, keys.slice(0, -1), array ? 'array-header' : 'header');
    const last = keys[keys.length - 1]!;
    const full = keys.join('.');
    const existing = parent.map.get(last);
    if (array) {
      const t = new Table();
      t.header = true;
      if (existing === undefined) parent.map.set(last, new ArrayNode([t], true));
      else if (existing instanceof ArrayNode && existing.ofTables) existing.items.push(t);
      else if (existing instanceof Table) this.fail(`toml::insert_value: array of table ("${full}") cannot be defined`);
      else if (existing instanceof ArrayNode && existing.items.length > 0 && existing.items.every((x) => x instanceof Table))
        this.fail(`toml::insert_value: array of table ("${full}") collides with existing array-of-tables`);
      else this.fail(`toml::insert_value: array of table ("${full}") collides with existing value`);
      return t;
    }
    if (existing === undefined) {
      const t = new Table();
      t.header = true;
      parent.map.set(last, t);
      return t;
    }
    if (existing instanceof Table && !existing.header && !existing.inline) {
      existing.header = true;
      return existing;
    }
    if (existing instanceof ArrayNode && existing.ofTables)
      this.fail(`toml::insert_value: array of tables ("${full}") already exists.`);
    if (existing instanceof Table) this.fail(`toml::insert_value: table ("${full}") already exists.`);
    this.fail(`toml::insert_value: value ("${full}") already exists.`);
  }

  /**
   * The table at `keys` below `from`, creating tables on the way, for a `[header]`, an
   * `[[array header]]` or a dotted key. toml11's rules (checked against Nix): a header passes
   * through an array of tables to its last element; tables created on the way to an array of
   * tables count as defined (a later `[header]` for them fails); a dotted key may enter
   * neither an inline table nor a table defined by a header nor an array of tables.
   */
  private walk(from: Table, keys: string[], how: 'header' | 'array-header' | 'dotted'): Table {
    let t = from;
    for (let ki = 0; ki < keys.length; ki++) {
      const k = keys[ki]!;
      const path = keys.slice(0, ki + 1).join('.');
      const n = t.map.get(k);
      if (n === undefined) {
        const fresh = new Table();
        fresh.header = how === 'array-header';
        t.map.set(k, fresh);
        t = fresh;
      } else if (n instanceof Table) {
        if (n.inline) this.fail(`toml::insert_value: inserting to an inline table (${path}) but inline tables are immutable`);
        if (how === 'dotted' && n.header) this.fail(`toml::insert_value: value ("${path}") already exists.`);
        t = n;
      } else if (n instanceof ArrayNode && n.ofTables && how !== 'dotted') {
        t = n.items[n.items.length - 1] as Table;
      } else if (how === 'dotted') this.fail(`toml::insert_value: target (${path}) is neither table nor an array of tables`);
      else this.fail(`toml::insert_value: value ("${path}") already exists.`);
    }
    return t;
  }

  /** Whether an `=` comes later on this line (toml11 words key errors by it). */
  private equalsLater(): boolean {
    for (let j = this.i; j < this.s.length; j++) {
      const c = this.s.charCodeAt(j);
      if (c === 0x0a) return false;
      if (c === 0x3d) return true;
    }
    return false;
  }

  private keyval(table: Table): void {
    const start = this.i;
    if (this.peek() === 0x3d) this.fail('toml::parse_key_value_pair: empty key is not allowed.');
    let keys: string[];
    try {
      keys = this.key();
    } catch (e) {
      // a first key that reads, then a bad dotted part: "invalid format for key"
      if (e instanceof TomlError && e.message === 'toml::parse_key: an invalid key appeared.' && this.i > start) {
        if (this.equalsLater()) this.fail('toml::parse_key_value_pair: invalid format for key');
      }
      throw e;
    }
    this.ws();
    if (this.peek() !== 0x3d) {
      if (this.equalsLater()) this.fail('toml::parse_key_value_pair: invalid format for key');
      this.fail('toml::parse_key_value_pair: missing key-value separator `=`');
    }
    this.i++;
    this.ws();
    const c = this.peek();
    if (c === -1 || c === 0x0a || c === 0x0d || c === 0x23)
      this.fail("toml::parse_key_value_pair: missing value after key-value separator '='");
    const v = this.value();
    const parent = this.walk(table, keys.slice(0, -1), 'dotted');
    const last = keys[keys.length - 1]!;
    if (parent.map.has(last)) this.fail(`toml::insert_value: value ("${keys.join('.')}") already exists.`);
    parent.map.set(last, v);
  }

  // ---- values

  private value(): Node {
    const c = this.peek();
    if (c === 0x22) {
      if (this.peek(1) === 0x22 && this.peek(2) === 0x22) return this.mlBasicString();
      return this.basicString();
    }
    if (c === 0x27) {
      if (this.peek(1) === 0x27 && this.peek(2) === 0x27) return this.mlLiteralString();
      return this.literalString();
    }
    if (c === 0x5b) return this.array();
    if (c === 0x7b) return this.inlineTable();
    if (c === 0x74 && this.s.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (c === 0x66 && this.s.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    if (this.dateTime()) return DATE;
    return this.number();
  }

  /**
   * A date, time or date-time (toml11's grammar), if one is here. Its fields must be in range
   * (RFC 3339, with leap years and a leap second), else it is a syntax error.
   */
  private dateTime(): boolean {
    const rest = this.s.slice(this.i, this.i + 64);
    const m =
      /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))?/.exec(rest) ??
      /^(\d{4})-(\d{2})-(\d{2})/.exec(rest) ??
      /^()()()(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?/.exec(rest);
    if (!m) return false;
    if (m[4] === undefined && /^\d{4}-\d{2}-\d{2}[Tt]/.test(rest)) this.fail('bad time: should be HH:MM:SS.subsec');
    const [, y, mo, d, h, mi, sec, , oh, om] = m;
    if (y) {
      const year = Number(y);
      const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
      const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Number(mo) - 1];
      if (days === undefined || Number(d) < 1 || Number(d) > days)
        this.fail('toml::parse_date: invalid date: it does not conform RFC3339.');
    }
    if (h !== undefined && h !== '' && (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 60))
      this.fail('toml::parse_time: invalid time: it does not conform RFC3339.');
    if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59))
      this.fail('toml::parse_offset_datetime: invalid offset: it does not conform RFC3339.');
    this.i += m[0].length;
    this.sawDate = true;
    return true;
  }

  private number(): Node {
    const start = this.i;
    while (/[0-9A-Za-z_.+-]/.test(String.fromCharCode(this.peek()))) this.i++;
    const tok = this.s.slice(start, this.i);
    if (tok === '') this.fail('bad format: unknown value appeared');
    const m = /^([+-])?(inf|nan)$/.exec(tok);
    if (m) {
      if (m[2] === 'inf') return new JsonFloat(m[1] === '-' ? -Infinity : Infinity);
      return new JsonFloat(m[1] === '-' ? negativeNaN : NaN);
    }
    const radix = /^0([xob])(.*)$/.exec(tok);
    if (radix) {
      const digits = { x: '[0-9A-Fa-f]', o: '[0-7]', b: '[01]' }[radix[1] as 'x' | 'o' | 'b'];
      if (!new RegExp(`^${digits}(?:_?${digits})*$`).test(radix[2]!)) {
        const name = { x: 'hexadecimal', o: 'octal:', b: 'binary:' }[radix[1] as 'x' | 'o' | 'b'];
        this.fail(`toml::parse_${name}_integer`.replace(/:_integer$/, '_integer:'));
      }
      const v = BigInt(`0${radix[1]}${radix[2]!.replace(/_/g, '')}`);
      return intValue(v > INT64_MAX ? INT64_MAX : v);
    }
    const dec = '(?:0|[1-9](?:_?[0-9])*)';
    const digits = '[0-9](?:_?[0-9])*';
    if (new RegExp(`^[+-]?${dec}$`).test(tok)) {
      let v = BigInt(tok.replace(/_/g, ''));
      if (v > INT64_MAX) v = INT64_MAX;
      if (v < INT64_MIN) v = INT64_MIN;
      return intValue(v);
    }
    if (new RegExp(`^[+-]?${dec}(?:\\.${digits}(?:[eE][+-]?${digits})?|[eE][+-]?${digits})$`).test(tok)) {
      let x = Number(tok.replace(/_/g, ''));
      if (x === Infinity) x = Number.MAX_VALUE;
      if (x === -Infinity) x = -Number.MAX_VALUE;
      return new JsonFloat(x);
    }
    this.fail(numberError(tok, `^[+-]?${dec}(?:\\.${digits})?(?:[eE][+-]?${digits})?`));
  }

  private array(): ArrayNode {
    this.i++;
    const items: Node[] = [];
    for (;;) {
      this.wsCommentNewlines();
      if (this.peek() === 0x5d) {
        this.i++;
        return new ArrayNode(items, false);
      }
      const c = this.peek();
      if (c === -1 || c === 0x2c || c === 0x5d)
        this.fail('toml::parse_array: value having invalid format appeared in an array');
      items.push(this.value());
      this.wsCommentNewlines();
      if (this.peek() === 0x2c) {
        this.i++;
        continue;
      }
      if (this.peek() === 0x5d) {
        this.i++;
        return new ArrayNode(items, false);
      }
      this.fail('toml::parse_array: missing array separator `,` after a value');
    }
  }

  private inlineTable(): Table {
    this.i++;
    const t = new Table();
    this.ws();
    if (this.peek() === 0x7d) {
      this.i++;
      t.inline = true;
      return t;
    }
    for (;;) {
      this.keyval(t);
      this.ws();
      if (this.peek() === 0x7d) {
        this.i++;
        t.inline = true;
        return t;
      }
      if (this.peek() !== 0x2c) {
        const c = this.peek();
        this.fail(
          c === -1 || c === 0x0a || c === 0x0d
            ? 'toml::parse_inline_table: missing curly brace `}`'
            : 'toml::parse_inline_table: missing table separator `,`',
        );
      }
      this.i++;
      this.ws();
      if (this.peek() === 0x7d) this.fail('toml::parse_inline_table: trailing comma is not allowed in an inline table');
    }
  }

  // ---- strings

  /** A UTF-8 sequence starting at a byte >= 0x80, checked; returns its bytes. */
  private utf8Sequence(where: string): string {
    const c = this.peek();
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else this.fail(`${where}: invalid utf8 sequence found`);
    for (let k = 1; k <= n; k++) {
      const d = this.peek(k);
      if (d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) this.fail(`${where}: invalid utf8 sequence found`);
    }
    const out = this.s.slice(this.i, this.i + n + 1);
    this.i += n + 1;
    return out;
  }

  /** An escape sequence; `bad` is the message for a malformed or unknown one. */
  private escape(bad: string): string {
    // at the backslash
    const e = this.peek(1);
    this.i += 2;
    switch (e) {
      case 0x62:
        return '\b';
      case 0x74:
        return '\t';
      case 0x6e:
        return '\n';
      case 0x66:
        return '\f';
      case 0x72:
        return '\r';
      case 0x22:
        return '"';
      case 0x5c:
        return '\\';
      case 0x75:
      case 0x55: {
        const len = e === 0x75 ? 4 : 8;
        const hex = this.s.slice(this.i, this.i + len);
        if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== len) this.fail(bad);
        this.i += len;
        const cp = parseInt(hex, 16);
        if (cp >= 0xd800 && cp <= 0xdfff)
          this.fail('toml::read_utf8_codepoint: codepoints in the range [0xD800, 0xDFFF] are not valid UTF-8.');
        if (cp > 0x10ffff) this.fail('toml::read_utf8_codepoint: input codepoint is too large.');
        return utf8(cp);
      }
      default:
        this.fail(bad);
    }
  }

  private basicString(): string {
    this.i++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === 0x22) {
        this.i++;
        return out;
      }
      if (c === 0x5c) out += this.escape('toml::parse_basic_string: the next token is not a valid string');
      else if (c >= 0x80) out += this.utf8Sequence('parse_ml_basic_string');
      else if (c === -1 || (c < 0x20 && c !== 0x09) || c === 0x7f)
        this.fail('toml::parse_basic_string: the next token is not a valid string');
      else {
        out += String.fromCharCode(c);
        this.i++;
      }
    }
  }

  private mlBasicString(): string {
    this.i += 3;
    this.newline();
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === 0x22 && this.peek(1) === 0x22 && this.peek(2) === 0x22) {
        // up to two more quotes belong to the content
        let extra = 0;
        while (extra < 2 && this.peek(3 + extra) === 0x22) extra++;
        this.i += 3 + extra;
        return out + '"'.repeat(extra);
      }
      if (c === 0x5c) {
        // a line-ending backslash eats the newline and the whitespace after it
        let j = this.i + 1;
        while (this.s.charCodeAt(j) === 0x20 || this.s.charCodeAt(j) === 0x09) j++;
        if (this.s.charCodeAt(j) === 0x0a || (this.s.charCodeAt(j) === 0x0d && this.s.charCodeAt(j + 1) === 0x0a)) {
          this.i = j;
          for (;;) {
            this.ws();
            if (!this.newline()) break;
          }
          continue;
        }
        out += this.escape('toml::parse_ml_basic_string: the next token is not a valid multiline string');
      } else if (this.newline()) out += this.s.charCodeAt(this.i - 1) === 0x0a && this.s.charCodeAt(this.i - 2) === 0x0d ? '\r\n' : '\n';
      else if (c >= 0x80) out += this.utf8Sequence('parse_ml_basic_string');
      else if (c === -1 || (c < 0x20 && c !== 0x09) || c === 0x7f)
        this.fail('toml::parse_ml_basic_string: the next token is not a valid multiline string');
      else {
        out += String.fromCharCode(c);
        this.i++;
      }
    }
  }

  private literalString(): string {
    this.i++;
    const start = this.i;
    for (;;) {
      const c = this.peek();
      if (c === 0x27) {
        const out = this.s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c >= 0x80) this.utf8Sequence('toml::parse_literal_string');
      else if (c === -1 || (c < 0x20 && c !== 0x09) || c === 0x7f)
        this.fail('toml::parse_literal_string: the next token is not a valid literal string');
      else this.i++;
    }
  }

  private mlLiteralString(): string {
    this.i += 3;
    this.newline();
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === 0x27 && this.peek(1) === 0x27 && this.peek(2) === 0x27) {
        let extra = 0;
        while (extra < 2 && this.peek(3 + extra) === 0x27) extra++;
        this.i += 3 + extra;
        return out + "'".repeat(extra);
      }
      const before = this.i;
      if (this.newline()) out += this.s.slice(before, this.i);
      else if (c >= 0x80) out += this.utf8Sequence('toml::parse_ml_literal_string');
      else if (c === -1 || (c < 0x20 && c !== 0x09) || c === 0x7f)
        this.fail('toml::parse_ml_literal_string: the next token is not a valid multiline literal string');
      else {
        out += String.fromCharCode(c);
        this.i++;
      }
    }
  }
}

/**
 * toml11's message for a value token that is not a number (only the wording depends on this;
 * `validPrefix` is the grammar of a decimal number).
 */
function numberError(tok: string, validPrefix: string): string {
  if (tok.startsWith('_')) return 'bad number: `_` should be surrounded by digits';
  if (/^[tf]/.test(tok)) return 'toml::parse_boolean:';
  if (/^[+-][^0-9in]/.test(tok)) return 'bad format: unknown value appeared';
  if (/^[+-]?0[0-9_]/.test(tok)) return 'bad integer: leading zero';
  if (/^[+-]?[0-9]+-/.test(tok)) return 'bad datetime: invalid format';
  if (/^0[A-Za-z]/.test(tok)) return 'toml::parse_integer: unknown integer prefix appeared.';
  if (tok.startsWith('.')) return 'bad float: invalid format';
  const prefix = /^[+-]?(?:inf|nan)/.exec(tok)?.[0] ?? new RegExp(validPrefix).exec(tok)?.[0] ?? '';
  if (prefix === '') return 'bad format: unknown value appeared';
  const rest = tok.slice(prefix.length);
  if (rest.startsWith('_')) return /[.eE]/.test(prefix) ? 'bad float: invalid format' : 'bad integer: `_` should be surrounded by digits';
  if (/^[.eE]/.test(rest) && !/[.eE]/.test(prefix)) return 'bad float: invalid format';
  // a number followed by other characters: toml11 reads the number, then trips on the rest
  return 'toml::parse_table: invalid line format';
}

function intValue(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** The finished tree (Nix's conversion: string values cut at a NUL, as C strings). */
function toTree(n: Node): TomlTree {
  if (n instanceof Table) {
    const m = new Map<string, TomlTree>();
    for (const [k, v] of n.map) m.set(k, toTree(v));
    return new JsonObject(m);
  }
  if (n instanceof ArrayNode) return n.items.map(toTree);
  if (n === DATE) throw new Error('internal error: date reached the tree');
  if (typeof n === 'string') {
    const z = n.indexOf('\0');
    return z < 0 ? n : n.slice(0, z);
  }
  return n;
}

/**
 * Parses a TOML document (a byte string) as Nix 2.8's `builtins.fromTOML` does and returns its
 * root table. Throws ImgError E_EVAL `while parsing a TOML string: ...` on a syntax error, and
 * `while parsing a TOML string: Dates and times are not supported` if a date or time appears.
 */
export function parseTOML(text: string): JsonObject {
  const p = new Parser(text);
  let root: Table;
  try {
    root = p.parse();
  } catch (e) {
    if (e instanceof TomlError) throw new ImgError('E_EVAL', `while parsing a TOML string: [error] ${e.message}`);
    throw e;
  }
  if (p.sawDate) throw new ImgError('E_EVAL', 'while parsing a TOML string: Dates and times are not supported');
  return toTree(root) as JsonObject;
}
