// eval/print: turns values into text exactly as Nix 2.8 does: the `nix-instantiate --eval`
// form (with «repeated» by storage identity, including 2.8's small-list quirk), JSON (toJSON and
// --json) and XML (toXML and --xml). Forcing happens while printing; output is built in memory
// and returned, so a failure prints nothing. Never writes anywhere.

import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';
import { quoteJSONString } from './lib/json.js';
import { xmlAttrs } from './lib/xml.js';
import { ContextBuilder, TRACE_CAP, callValue, coerceToString, formatFloatG, isDerivation, type CoerceState } from './ops.js';
import { Attrs, Lambda, NixFloat, NixPath, NixString, PrimOp, PrimOpApp, Shape, Thunk, force, showType, type Lazy, type Value } from './value.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** A Nix string literal for a byte string (the printer's escapes). */
export function escapeNixString(s: string): string {
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c === 34) rep = '\\"';
    else if (c === 92) rep = '\\\\';
    else if (c === 10) rep = '\\n';
    else if (c === 13) rep = '\\r';
    else if (c === 9) rep = '\\t';
    else if (c === 36 && s.charCodeAt(i + 1) === 123) rep = '\\$';
    if (rep !== undefined) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return out + s.slice(last) + '"';
}

export function printAttrName(n: string): string {
  return IDENT.test(n) && n !== 'if' ? n : escapeNixString(n);
}

export interface PrintOptions {
  /** Force everything (`--strict`); otherwise unevaluated thunks print as `<CODE>`. */
  strict?: boolean;
}

const GUILLEMETS = '\u00c2\u00abrepeated\u00c2\u00bb'; // «repeated» as UTF-8 bytes

/** Prints a value as `nix-instantiate --eval [--strict]` does (without the final newline). */
export function printValue(x: Lazy, opts: PrintOptions = {}): string {
  const strict = opts.strict ?? true;
  const seen = new Set<unknown>();
  let out = '';
  // The top-level value is a copy of its cell (2.8): a small list gets fresh storage.
  go(x, true);
  return out;

  function go(slot: Lazy, top: boolean): void {
    let v: Value;
    if (slot instanceof Thunk) {
      if (!strict && !slot.forced) {
        out += '<CODE>';
        return;
      }
      v = slot.force();
    } else v = slot;
    if (v === null) out += 'null';
    else if (v === true) out += 'true';
    else if (v === false) out += 'false';
    else if (typeof v === 'number' || typeof v === 'bigint') out += String(v);
    else if (typeof v === 'string') out += escapeNixString(v);
    else if (v instanceof NixString) out += escapeNixString(v.s);
    else if (v instanceof NixFloat) out += formatFloatG(v.v);
    else if (v instanceof NixPath) out += v.p;
    else if (v instanceof Attrs) {
      if (v.size === 0) {
        out += '{ }';
        return;
      }
      if (seen.has(v)) {
        out += GUILLEMETS;
        return;
      }
      seen.add(v);
      out += '{ ';
      const names = v.names();
      for (let i = 0; i < names.length; i++) {
        out += printAttrName(names[i]!) + ' = ';
        const slot2 = v.vals[i]!;
        if (slot2 instanceof Thunk && !slot2.forced) {
          try {
            slot2.force();
          } catch (e) {
            if (e instanceof ImgError && e.trace.length < TRACE_CAP) e.addTrace(`while evaluating the attribute '${names[i]}'`, v.posOf(names[i]!));
            throw e;
          }
        }
        go(slot2, false);
        out += '; ';
      }
      out += '}';
    } else if (Array.isArray(v)) {
      if (v.length === 0) {
        out += '[ ]';
        return;
      }
      // Lists of 1 or 2 elements live inside their cell in 2.8: their identity is the cell.
      const key = v.length > 2 ? v : top ? {} : slot instanceof Thunk ? slot : v;
      if (seen.has(key)) {
        out += GUILLEMETS;
        return;
      }
      seen.add(key);
      out += '[ ';
      for (const e of v) {
        go(e, false);
        out += ' ';
      }
      out += ']';
    } else if (v instanceof Lambda) out += '<LAMBDA>';
    else if (v instanceof PrimOp) out += '<PRIMOP>';
    else if (v instanceof PrimOpApp) out += '<PRIMOP-APP>';
    else throw new Error('internal: unknown value in printValue');
  }
}

/**
 * Forces a value completely (deepSeq, --json): depth first, each set's attributes in name order
 * and each list's elements in order (as Nix's forceValueDeep walks them, so the first failing or
 * tracing value is Nix's), every set and list once. Iterative (a stack of containers and the
 * next index in each) to keep deep structures off the JS stack. An error forcing an attribute
 * gets that attribute's trace frame.
 */
export function forceDeep(x: Lazy): void {
  const seen = new Set<unknown>();
  const objs: (Attrs | Lazy[])[] = [];
  const next: number[] = [];
  const enter = (v: Value): void => {
    if (v instanceof Attrs || Array.isArray(v)) {
      if (seen.has(v)) return;
      seen.add(v);
      objs.push(v);
      next.push(0);
    }
  };
  enter(force(x));
  while (objs.length > 0) {
    const top = objs.length - 1;
    const o = objs[top]!;
    const i = next[top]!;
    if (o instanceof Attrs) {
      if (i === o.vals.length) {
        objs.pop();
        next.pop();
        continue;
      }
      next[top] = i + 1;
      const slot = o.vals[i]!;
      let v: Value;
      if (slot instanceof Thunk && !slot.forced) {
        try {
          v = slot.force();
        } catch (e) {
          const n = o.names()[i]!;
          if (e instanceof ImgError) e.addTrace(`while evaluating the attribute '${n}'`, o.posOf(n));
          throw e;
        }
      } else v = force(slot);
      enter(v);
    } else {
      if (i === o.length) {
        objs.pop();
        next.pop();
        continue;
      }
      next[top] = i + 1;
      enter(force(o[i]!));
    }
  }
}

// ---- JSON -------------------------------------------------------------------------------------

export const escapeJSONString = quoteJSONString;

/**
 * The buffer of the last finished ByteWriter, for the next one: big outputs then reuse one
 * grown buffer instead of allocating (and copying) a series of doubling ones, whose external
 * memory makes V8 run extra collections. One kept at most, and none above 64 MiB.
 */
let spareBuffer: Buffer | undefined;
const SPARE_MAX = 1 << 26;

/** An output buffer of bytes (one char of a byte string = one byte): no per-piece allocation. */
class ByteWriter {
  buf: Buffer;
  n = 0;
  constructor() {
    // a nested writer (toJSON called from a __toString) finds no spare and makes its own
    this.buf = spareBuffer ?? Buffer.allocUnsafe(1 << 16);
    spareBuffer = undefined;
  }
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.n);
    this.buf = b;
  }
  write(s: string): void {
    const k = s.length;
    this.room(k);
    if (k > 24) this.n += this.buf.write(s, this.n, k, 'latin1');
    else {
      const b = this.buf;
      let n = this.n;
      for (let i = 0; i < k; i++) b[n++] = s.charCodeAt(i);
      this.n = n;
    }
  }
  /** Bytes as they are (short runs copied by hand: cheaper than a native call). */
  bytes(a: Uint8Array): void {
    const k = a.length;
    this.room(k);
    const b = this.buf;
    let n = this.n;
    if (k > 32) {
      b.set(a, n);
      this.n = n + k;
      return;
    }
    for (let i = 0; i < k; i++) b[n++] = a[i]!;
    this.n = n;
  }
  byte(c: number): void {
    this.room(1);
    this.buf[this.n++] = c;
  }
  /** An integer in decimal (small non-negative ones without making a string). */
  int(v: number | bigint): void {
    if (typeof v !== 'number' || v < 0 || v > 0x7fffffff) {
      this.write(String(v));
      return;
    }
    let k = 1;
    for (let t = v; t >= 10; t = (t / 10) | 0) k++;
    this.room(k);
    const b = this.buf;
    let n = this.n + k;
    this.n = n;
    let t = v;
    do {
      const q = (t / 10) | 0;
      b[--n] = 48 + t - q * 10;
      t = q;
    } while (t > 0);
  }
  /** A JSON string literal, escaped as toJSON does. */
  jsonString(s: string): void {
    const k = s.length;
    this.room(k * 6 + 2);
    const b = this.buf;
    let n = this.n;
    b[n++] = 34;
    for (let i = 0; i < k; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) b[n++] = c;
      else if (c === 0x22 || c === 0x5c) {
        b[n++] = 92;
        b[n++] = c;
      } else if (c === 10) {
        b[n++] = 92;
        b[n++] = 110;
      } else if (c === 13) {
        b[n++] = 92;
        b[n++] = 114;
      } else if (c === 9) {
        b[n++] = 92;
        b[n++] = 116;
      } else {
        const hex = '0123456789abcdef';
        b[n++] = 92;
        b[n++] = 117;
        b[n++] = 48;
        b[n++] = 48;
        b[n++] = hex.charCodeAt(c >> 4);
        b[n++] = hex.charCodeAt(c & 15);
      }
    }
    b[n++] = 34;
    this.n = n;
  }
  /** The bytes written as a byte string; the writer is done (its buffer may be reused). */
  finish(): string {
    const s = this.buf.toString('latin1', 0, this.n);
    if (this.buf.length <= SPARE_MAX && (spareBuffer === undefined || spareBuffer.length < this.buf.length)) spareBuffer = this.buf;
    return s;
  }
}

/**
 * What toJSON needs of a shape, made once per shape (shapes are immutable): whether it has
 * `__toString` or `outPath`, and each name's bytes as written, quote, escapes and colon included
 * (the first after `{`, the others after `,`).
 */
class JsonShape {
  constructor(
    readonly special: boolean,
    readonly keys: Uint8Array[],
  ) {}
}
const JSON_SHAPES = new WeakMap<Shape, JsonShape>();
function jsonShape(shape: Shape): JsonShape {
  let r = JSON_SHAPES.get(shape);
  if (r === undefined) {
    const names = shape.keys;
    const keys = new Array<Uint8Array>(names.length);
    for (let i = 0; i < names.length; i++) keys[i] = Buffer.from(`${i === 0 ? '{' : ','}${quoteJSONString(names[i]!)}:`, 'latin1');
    r = new JsonShape(shape.indexOf('__toString') >= 0 || shape.indexOf('outPath') >= 0, keys);
    JSON_SHAPES.set(shape, r);
  }
  return r;
}

/** toJSON / --json: compact JSON; paths are copied to the store; the context is collected. */
export function printJSON(st: CoerceState, x: Lazy, ctx: ContextBuilder, span: Span | undefined): string {
  const out = new ByteWriter();
  go(x);
  return out.finish();

  function go(slot: Lazy): void {
    const v = force(slot);
    if (v === null) out.write('null');
    else if (v === true) out.write('true');
    else if (v === false) out.write('false');
    else if (typeof v === 'number' || typeof v === 'bigint') out.int(v);
    else if (typeof v === 'string') out.jsonString(v);
    else if (v instanceof NixString) {
      ctx.add(v.ctx);
      out.jsonString(v.s);
    } else if (v instanceof NixFloat) out.write(formatFloatG(v.v));
    else if (v instanceof NixPath) {
      const p = st.copyPathToStore(v.p, span);
      ctx.addOne(p);
      out.jsonString(p);
    } else if (v instanceof Attrs) {
      const js = jsonShape(v.shape);
      if (js.special) {
        const ts = v.get('__toString');
        if (ts !== undefined) {
          const r = callValue(force(ts), [v], span);
          out.jsonString(coerceToString(st, r, ctx, false, false, span));
          return;
        }
        const op = v.get('outPath');
        if (op !== undefined) {
          go(op);
          return;
        }
      }
      const keys = js.keys;
      const vals = v.vals;
      if (keys.length === 0) out.byte(123);
      for (let i = 0; i < keys.length; i++) {
        out.bytes(keys[i]!);
        try {
          go(vals[i]!);
        } catch (e) {
          if (e instanceof ImgError) {
            const n = v.shape.keys[i]!;
            e.addTrace(`while evaluating attribute '${n}'`, v.posOf(n));
          }
          throw e;
        }
      }
      out.byte(125);
    } else if (Array.isArray(v)) {
      out.byte(91);
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.byte(44);
        go(v[i]!);
      }
      out.byte(93);
    } else throw new ImgError('E_TYPE', `cannot convert ${showType(v)} to JSON`, span);
  }
}

// ---- XML --------------------------------------------------------------------------------------

/** toXML / --xml: the `<expr>` document, attributes of each element in name order. */
export function printXML(x: Lazy, opts: { strict: boolean; location: boolean; ctx: ContextBuilder }): string {
  const out: string[] = ["<?xml version='1.0' encoding='utf-8'?>\n"];
  let depth = 0;
  const drvsSeen = new Set<string>();
  const attrsText = (attrs: [string, string][]) => xmlAttrs(attrs);
  const empty = (name: string, attrs: [string, string][] = []) => out.push(`${'  '.repeat(depth)}<${name}${attrsText(attrs)} />\n`);
  const open = (name: string, attrs: [string, string][] = []) => {
    out.push(`${'  '.repeat(depth)}<${name}${attrsText(attrs)}>\n`);
    depth++;
  };
  const close = (name: string) => {
    depth--;
    out.push(`${'  '.repeat(depth)}</${name}>\n`);
  };
  const posAttrs = (span: Span | undefined): [string, string][] => {
    if (!opts.location || !span) return [];
    const { line, col } = span.file.position(span.start);
    return [
      ['path', span.file.name],
      ['line', String(line)],
      ['column', String(col)],
    ];
  };
  const showAttrs = (a: Attrs) => {
    for (const n of a.names()) {
      open('attr', [['name', n], ...posAttrs(a.posOf(n))]);
      go(a.get(n)!);
      close('attr');
    }
  };
  const go = (slot: Lazy) => {
    let v: Value;
    if (slot instanceof Thunk) {
      if (!opts.strict && !slot.forced) {
        empty('unevaluated');
        return;
      }
      v = slot.force();
    } else v = slot;
    if (v === null) empty('null');
    else if (typeof v === 'boolean') empty('bool', [['value', v ? 'true' : 'false']]);
    else if (typeof v === 'number' || typeof v === 'bigint') empty('int', [['value', String(v)]]);
    else if (typeof v === 'string') empty('string', [['value', v]]);
    else if (v instanceof NixString) {
      opts.ctx.add(v.ctx);
      empty('string', [['value', v.s]]);
    } else if (v instanceof NixFloat) empty('float', [['value', formatFloatG(v.v)]]);
    else if (v instanceof NixPath) empty('path', [['value', v.p]]);
    else if (v instanceof Attrs) {
      if (isDerivation(v)) {
        const attrs: [string, string][] = [];
        let drvPath = '';
        const d = v.get('drvPath');
        if (d !== undefined) {
          const dv = opts.strict ? force(d) : d instanceof Thunk ? (d.forced ? d.v : undefined) : d;
          if (typeof dv === 'string' || dv instanceof NixString) attrs.push(['drvPath', (drvPath = typeof dv === 'string' ? dv : dv.s)]);
        }
        const o = v.get('outPath');
        if (o !== undefined) {
          const ov = opts.strict ? force(o) : o instanceof Thunk ? (o.forced ? o.v : undefined) : o;
          if (typeof ov === 'string' || ov instanceof NixString) attrs.push(['outPath', typeof ov === 'string' ? ov : ov.s]);
        }
        open('derivation', attrs);
        if (drvPath !== '' && !drvsSeen.has(drvPath)) {
          drvsSeen.add(drvPath);
          showAttrs(v);
        } else empty('repeated');
        close('derivation');
      } else {
        open('attrs');
        showAttrs(v);
        close('attrs');
      }
    } else if (Array.isArray(v)) {
      open('list');
      for (const e of v) go(e);
      close('list');
    } else if (v instanceof Lambda) {
      const lc = v.f;
      open('function', posAttrs(lc.span));
      if (lc.formals !== undefined) {
        const a: [string, string][] = [];
        if (lc.arg !== undefined) a.push(['name', lc.arg]);
        if (lc.ellipsis) a.push(['ellipsis', '1']);
        open('attrspat', a);
        for (const n of [...lc.formalNames!].sort()) empty('attr', [['name', n]]);
        close('attrspat');
      } else empty('varpat', [['name', lc.arg ?? '']]);
      close('function');
    } else empty('unevaluated');
  };
  open('expr');
  go(x);
  close('expr');
  return out.join('');
}
