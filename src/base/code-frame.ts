// base/code-frame: renders an ImgError for people: `error[CODE]: message`, the location as
// file:line:col, a code frame with line numbers and carets under the span, notes, and the
// trace (capped, with repeated frames folded). The only place that turns offsets into lines.
// The result is a byte string like every Nix string (one char = one byte): source lines and
// messages already are, and the renderer's own non-ASCII marks are written as UTF-8 bytes.

import type { ImgError, TraceFrame } from './error.js';
import { formatLocation, type Span } from './source.js';

export interface RenderOptions {
  /** ANSI colours (only when writing to a terminal). */
  color?: boolean;
  /** At most this many trace frames are shown (after folding repeats). */
  maxTrace?: number;
}

/** `…` (U+2026) as its UTF-8 bytes, in the byte-string form. */
const ELLIPSIS = '\u00e2\u0080\u00a6';

const C = {
  red: (s: string) => `\x1b[31;1m${s}\x1b[0m`,
  blue: (s: string) => `\x1b[34;1m${s}\x1b[0m`,
  bold: (s: string) => `\x1b[1m${s}\x1b[0m`,
};

export function codeFrame(s: Span, color = false): string {
  const file = s.file;
  const start = file.position(s.start);
  const endOff = Math.max(s.start, s.end - 1);
  const end = file.position(Math.min(endOff, Math.max(0, file.text.length - 1)));
  const first = start.line;
  const last = Math.min(Math.max(end.line, first), first + 5);
  const width = String(last).length;
  const gutter = (n?: number) => (n === undefined ? ' '.repeat(width) : String(n).padStart(width)) + ' | ';
  const paint = (t: string) => (color ? C.blue(t) : t);
  const out: string[] = [paint(gutter()).trimEnd()];
  for (let ln = first; ln <= last; ln++) {
    const text = file.line(ln).replace(/\t/g, ' ');
    out.push(paint(gutter(ln)) + text);
    const from = ln === first ? start.col : 1 + (text.length - text.trimStart().length);
    let to: number;
    if (ln === end.line && end.line >= first) to = end.col;
    else to = Math.max(text.length, from);
    if (s.end <= s.start) to = from;
    const carets = '^'.repeat(Math.max(1, to - from + 1));
    out.push(paint(gutter()) + ' '.repeat(from - 1) + (color ? C.red(carets) : carets));
  }
  if (end.line > last) out.push(paint(gutter()) + '...');
  return out.join('\n');
}

function foldTrace(trace: readonly TraceFrame[], max: number): string[] {
  const lines: string[] = [];
  let i = 0;
  while (i < trace.length && lines.length < max) {
    const f = trace[i]!;
    const loc = f.span ? ` at ${formatLocation(f.span)}` : '';
    const text = `${f.message}${loc}`;
    let n = 1;
    while (i + n < trace.length) {
      const g = trace[i + n]!;
      const gl = g.span ? ` at ${formatLocation(g.span)}` : '';
      if (`${g.message}${gl}` !== text) break;
      n++;
    }
    lines.push(n > 1 ? `${text} (repeated ${n} times)` : text);
    i += n;
  }
  if (i < trace.length) lines.push(`(${trace.length - i} more frames not shown)`);
  return lines;
}

export function renderError(e: ImgError, opts: RenderOptions = {}): string {
  const color = opts.color ?? false;
  const head = `error[${e.code}]: ${e.message}`;
  const out: string[] = [color ? C.bold(C.red(head)) : head];
  if (e.span) {
    out.push(`  --> ${formatLocation(e.span)}`);
    out.push(codeFrame(e.span, color));
  }
  for (const n of e.notes) {
    out.push(`  = note: ${n.message}${n.span ? ` (${formatLocation(n.span)})` : ''}`);
  }
  if (e.trace.length > 0) {
    out.push('trace (innermost first):');
    for (const l of foldTrace(e.trace, opts.maxTrace ?? 20)) out.push(`  ${ELLIPSIS} ${l}`);
  }
  return out.join('\n') + '\n';
}
