// image/json: JSON text in the exact byte styles image files are written in: Go's
// encoding/json (compact, `<>&` escaped, what skopeo re-marshals to), jq's pretty printer
// (2-space indent, trailing newline: nixpkgs buildImage) and Python's json.dumps(indent=4)
// (ASCII-only, no trailing newline: nixpkgs streamLayeredImage). Object keys are written in the
// order given (use `ordered()` for an explicit order); nothing is sorted here unless asked.
// Also parsing JSON read from archives back into binary strings. It does no IO.
//
// Strings are binary strings (one char per byte, UTF-8 inside), as everywhere in imgeval.

import { ImgError } from '../base/error.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject | Ordered;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** An object whose key order is the order of `entries` (safe for integer-like keys too). */
export class Ordered {
  constructor(readonly entries: [string, JsonValue][]) {}
}
export function ordered(entries: [string, JsonValue | undefined][]): Ordered {
  return new Ordered(entries.filter((e): e is [string, JsonValue] => e[1] !== undefined));
}

export type JsonStyle = 'go' | 'jq' | 'python';

function entriesOf(v: JsonObject | Ordered): [string, JsonValue][] {
  return v instanceof Ordered ? v.entries : Object.entries(v);
}

const hex4 = (c: number) => c.toString(16).padStart(4, '0');
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const GO_PLAIN = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/;

/** Escapes a binary string as a JSON string literal in the given style (result is binary too). */
function quote(s: string, style: JsonStyle): string {
  // Printable ASCII without '"', '\\' (and, for Go, '<', '>', '&') is written as is in every style.
  if ((style === 'go' ? GO_PLAIN : PLAIN).test(s)) return `"${s}"`;
  // decode the UTF-8 bytes to code points; escape per style; re-encode to UTF-8 bytes
  const text = Buffer.from(s, 'latin1').toString('utf8');
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20) {
      if (style !== 'go' && c === 8) out += '\\b';
      else if (style !== 'go' && c === 12) out += '\\f';
      else out += `\\u${hex4(c)}`;
    } else if (style === 'go' && (ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029)) {
      out += `\\u${hex4(c)}`;
    } else if (style === 'jq' && c === 0x7f) out += '\\u007f';
    else if (style === 'python' && c > 0x7e) {
      if (c === 0x7f) out += ch;
      else if (c > 0xffff) {
        const v = c - 0x10000;
        out += `\\u${hex4(0xd800 + (v >> 10))}\\u${hex4(0xdc00 + (v & 0x3ff))}`;
      } else out += `\\u${hex4(c)}`;
    } else out += ch;
  }
  return Buffer.from(out + '"', 'utf8').toString('latin1');
}

function num(n: number): string {
  if (!Number.isFinite(n)) throw new ImgError('E_IMAGE', `cannot write the number ${n} as JSON`);
  return String(n);
}

/** JSON text (binary string) of `v` in `style`. */
export function stringify(v: JsonValue, style: JsonStyle): string {
  const indent = style === 'jq' ? 2 : style === 'python' ? 4 : 0;
  const colon = indent ? ': ' : ':';
  const go = (x: JsonValue, depth: number): string => {
    if (x === null) return 'null';
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'number') return num(x);
    if (typeof x === 'string') return quote(x, style);
    const nl = indent ? '\n' + ' '.repeat(indent * (depth + 1)) : '';
    const close = indent ? '\n' + ' '.repeat(indent * depth) : '';
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return '[' + x.map((e) => nl + go(e, depth + 1)).join(',') + close + ']';
    }
    const es = entriesOf(x);
    if (es.length === 0) return '{}';
    return '{' + es.map(([k, e]) => nl + quote(k, style) + colon + go(e, depth + 1)).join(',') + close + '}';
  };
  const body = go(v, 0);
  return style === 'jq' ? body + '\n' : body;
}

/** The bytes of `stringify(v, style)`. */
export function jsonBytes(v: JsonValue, style: JsonStyle): Buffer {
  return Buffer.from(stringify(v, style), 'latin1');
}

/** A copy of `v` with object keys sorted recursively (what Nix's builtins.toJSON produces). */
export function sortKeysDeep(v: JsonValue): JsonValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  const es = entriesOf(v).map(([k, e]) => [k, sortKeysDeep(e)] as [string, JsonValue]);
  es.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Ordered(es);
}

/** Parses JSON bytes read from an archive; strings come back as binary strings. */
export function parseJsonBytes(bytes: Uint8Array, what: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new ImgError('E_ARCHIVE', `${what} is not valid JSON: ${(e as Error).message}`);
  }
  const conv = (x: unknown): unknown => {
    if (typeof x === 'string') return Buffer.from(x, 'utf8').toString('latin1');
    if (Array.isArray(x)) return x.map(conv);
    if (x && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(x)) o[Buffer.from(k, 'utf8').toString('latin1')] = conv(e);
      return o;
    }
    return x;
  };
  return conv(v);
}
