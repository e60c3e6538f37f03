// eval/print: turns values into text exactly as Nix 2.8 does: the `nix-instantiate --eval`
// form (with «repeated» by storage identity, including 2.8's small-list quirk), JSON (toJSON and
// --json) and XML (toXML and --xml). Forcing happens while printing; output is built in memory
// and returned, so a failure prints nothing. Never writes anywhere.

import { ImgError } from '../base/error.js';
import type { Span } from '../base/source.js';
import { quoteJSONString } from './lib/json.js';
import { ContextBuilder, callValue, coerceToString, formatFloatG, isDerivation, type CoerceState } from './ops.js';
import { Attrs, Lambda, NixFloat, NixPath, NixString, PrimOp, PrimOpApp, Thunk, force, showType, type Lazy, type Value } from './value.js';

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
  const out: string[] = [];
  // The top-level value is a copy of its cell (2.8): a small list gets fresh storage.
  go(x, true);
  return out.join('');

  function go(slot: Lazy, top: boolean): void {
    let v: Value;
    if (slot instanceof Thunk) {
      if (!strict && !slot.forced) {
        out.push('<CODE>');
        return;
      }
      v = slot.force();
    } else v = slot;
    if (v === null) out.push('null');
    else if (v === true) out.push('true');
    else if (v === false) out.push('false');
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    else if (typeof v === 'string') out.push(escapeNixString(v));
    else if (v instanceof NixString) out.push(escapeNixString(v.s));
    else if (v instanceof NixFloat) out.push(formatFloatG(v.v));
    else if (v instanceof NixPath) out.push(v.p);
    else if (v instanceof Attrs) {
      if (v.size === 0) {
        out.push('{ }');
        return;
      }
      if (seen.has(v)) {
        out.push(GUILLEMETS);
        return;
      }
      seen.add(v);
      out.push('{ ');
      const names = v.names();
      for (let i = 0; i < names.length; i++) {
        out.push(printAttrName(names[i]!), ' = ');
        go(v.vals[i]!, false);
        out.push('; ');
      }
      out.push('}');
    } else if (Array.isArray(v)) {
      if (v.length === 0) {
        out.push('[ ]');
        return;
      }
      // Lists of 1 or 2 elements live inside their cell in 2.8: their identity is the cell.
      const key = v.length > 2 ? v : top ? {} : slot instanceof Thunk ? slot : v;
      if (seen.has(key)) {
        out.push(GUILLEMETS);
        return;
      }
      seen.add(key);
      out.push('[ ');
      for (const e of v) {
        go(e, false);
        out.push(' ');
      }
      out.push(']');
    } else if (v instanceof Lambda) out.push('<LAMBDA>');
    else if (v instanceof PrimOp) out.push('<PRIMOP>');
    else if (v instanceof PrimOpApp) out.push('<PRIMOP-APP>');
    else throw new Error('internal: unknown value in printValue');
  }
}

/** Forces a value completely (deepSeq; attrs in name order, as Nix's forceValueDeep). */
export function forceDeep(x: Lazy): void {
  const seen = new Set<unknown>();
  const stack: Lazy[] = [x];
  // Iterative to keep deep structures off the JS stack; order matches a depth-first walk.
  while (stack.length > 0) {
    const v = force(stack.pop()!);
    if (v instanceof Attrs) {
      if (seen.has(v)) continue;
      seen.add(v);
      const names = v.names();
      for (let i = names.length - 1; i >= 0; i--) {
        const n = names[i]!;
        const slot = v.get(n)!;
        if (slot instanceof Thunk && !slot.forced) {
          // force now so that errors carry the attribute in the trace
          try {
            slot.force();
          } catch (e) {
            if (e instanceof ImgError) e.addTrace(`while evaluating the attribute '${n}'`, v.posOf(n));
            throw e;
          }
        }
        stack.push(slot);
      }
    } else if (Array.isArray(v)) {
      if (seen.has(v)) continue;
      seen.add(v);
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]!);
    }
  }
}

// ---- JSON -------------------------------------------------------------------------------------

export const escapeJSONString = quoteJSONString;

/** toJSON / --json: compact JSON; paths are copied to the store; the context is collected. */
export function printJSON(st: CoerceState, x: Lazy, ctx: ContextBuilder, span: Span | undefined): string {
  const out: string[] = [];
  go(x);
  return out.join('');

  function go(slot: Lazy): void {
    const v = force(slot);
    if (v === null) out.push('null');
    else if (v === true) out.push('true');
    else if (v === false) out.push('false');
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    else if (typeof v === 'string') out.push(escapeJSONString(v));
    else if (v instanceof NixString) {
      ctx.add(v.ctx);
      out.push(escapeJSONString(v.s));
    } else if (v instanceof NixFloat) out.push(formatFloatG(v.v));
    else if (v instanceof NixPath) {
      const p = st.copyPathToStore(v.p, span);
      ctx.addOne(p);
      out.push(escapeJSONString(p));
    } else if (v instanceof Attrs) {
      const ts = v.get('__toString');
      if (ts !== undefined) {
        const r = callValue(force(ts), [v], span);
        out.push(escapeJSONString(coerceToString(st, r, ctx, false, false, span)));
        return;
      }
      const op = v.get('outPath');
      if (op !== undefined) {
        go(op);
        return;
      }
      out.push('{');
      let first = true;
      for (const n of v.names()) {
        if (!first) out.push(',');
        first = false;
        out.push(escapeJSONString(n), ':');
        const slot2 = v.get(n)!;
        try {
          go(slot2);
        } catch (e) {
          if (e instanceof ImgError) e.addTrace(`while evaluating attribute '${n}'`, v.posOf(n));
          throw e;
        }
      }
      out.push('}');
    } else if (Array.isArray(v)) {
      out.push('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(',');
        go(v[i]!);
      }
      out.push(']');
    } else throw new ImgError('E_TYPE', `cannot convert ${showType(v)} to JSON`, span);
  }
}

// ---- XML --------------------------------------------------------------------------------------

function xmlAttr(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') out += '&quot;';
    else if (c === '<') out += '&lt;';
    else if (c === '>') out += '&gt;';
    else if (c === '&') out += '&amp;';
    else if (c === '\n') out += '&#xA;';
    else out += c;
  }
  return out;
}

/** toXML / --xml: the `<expr>` document, attributes of each element in name order. */
export function printXML(x: Lazy, opts: { strict: boolean; location: boolean; ctx: ContextBuilder }): string {
  const out: string[] = ["<?xml version='1.0' encoding='utf-8'?>\n"];
  let depth = 0;
  const drvsSeen = new Set<string>();
  const attrsText = (attrs: [string, string][]) =>
    attrs
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([k, v]) => ` ${k}="${xmlAttr(v)}"`)
      .join('');
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
