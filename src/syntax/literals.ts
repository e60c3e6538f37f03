// syntax/literals: turning literal token text into values as Nix 2.8 does at parse time —
// string unescaping (with CR/CRLF normalisation), indented-string indentation stripping, int64
// and strtod-like float checks, and lexical path canonicalisation.
// Never touches the file system (paths are canonicalised textually, symlinks are not resolved).

/** Nix's unescapeStr: `\n` `\r` `\t`, `\X` → X, a raw CR or CRLF → LF; a NUL byte ends it. */
export function unescapeString(s: string): string {
  // Most text has nothing to unescape: the string itself, without building a copy.
  if (s.indexOf('\\') < 0 && s.indexOf('\r') < 0 && s.indexOf('\0') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let c = s[i]!;
    if (c === '\0') break;
    if (c === '\\') {
      i++;
      if (i >= s.length) break;
      c = s[i]!;
      if (c === '\0') break;
      out += c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c;
    } else if (c === '\r') {
      out += '\n';
      if (s[i + 1] === '\n') i++;
    } else out += c;
  }
  return out;
}

/** One piece of an indented string before stripping: literal text, or an interpolation. */
export type IndPiece<E> = { text: string; hasIndentation: boolean; start: number; end: number } | { expr: E; start: number; end: number };

/**
 * Nix 2.8's stripIndentation over the pieces of an indented string: the minimum indentation
 * (leading spaces of lines with content; escapes and interpolations end a line's indentation) is
 * removed from every line of every literal piece, and a final line of only spaces is dropped.
 */
export function stripIndentation<E>(pieces: readonly IndPiece<E>[]): IndPiece<E>[] {
  let atStartOfLine = true;
  let minIndent = Infinity;
  let curIndent = 0;
  for (const p of pieces) {
    if ('expr' in p || !p.hasIndentation) {
      if (atStartOfLine) {
        atStartOfLine = false;
        if (curIndent < minIndent) minIndent = curIndent;
      }
      continue;
    }
    const t = p.text;
    for (let j = 0; j < t.length; j++) {
      const c = t[j];
      if (atStartOfLine) {
        if (c === ' ') curIndent++;
        else if (c === '\n') curIndent = 0;
        else {
          atStartOfLine = false;
          if (curIndent < minIndent) minIndent = curIndent;
        }
      } else if (c === '\n') {
        atStartOfLine = true;
        curIndent = 0;
      }
    }
  }

  const out: IndPiece<E>[] = [];
  atStartOfLine = true;
  let curDropped = 0;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    if ('expr' in p) {
      atStartOfLine = false;
      curDropped = 0;
      out.push(p);
      continue;
    }
    const t = p.text;
    // The kept text is copied in runs: `from` is where the current run of kept characters began.
    let s2 = '';
    let from = 0;
    for (let j = 0; j < t.length; j++) {
      const c = t.charCodeAt(j);
      if (atStartOfLine) {
        if (c === 32) {
          if (curDropped++ < minIndent) {
            s2 += t.slice(from, j); // drop this space
            from = j + 1;
          }
        } else if (c === 10) {
          curDropped = 0;
        } else {
          atStartOfLine = false;
          curDropped = 0;
        }
      } else if (c === 10) atStartOfLine = true;
    }
    s2 += t.slice(from);
    if (i === pieces.length - 1) {
      const nl = s2.lastIndexOf('\n');
      if (nl >= 0 && /^ *$/.test(s2.slice(nl + 1))) s2 = s2.slice(0, nl + 1);
    }
    out.push({ text: s2, hasIndentation: p.hasIndentation, start: p.start, end: p.end });
  }
  return out;
}

const INT64_MAX = 9223372036854775807n;

/** An int literal (decimal digits): a number when safe, else a bigint; undefined when > int64. */
export function parseIntLiteral(text: string): number | bigint | undefined {
  if (text.length <= 15) return Number(text); // below 2^53: exact as a number
  const n = BigInt(text);
  if (n > INT64_MAX) return undefined;
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

const DBL_MIN = 2.2250738585072014e-308;

/** A float literal; undefined where glibc's strtod reports ERANGE (overflow, or underflow). */
export function parseFloatLiteral(text: string): number | undefined {
  const v = Number(text);
  if (!Number.isFinite(v)) return undefined;
  if (v !== 0 && Math.abs(v) < DBL_MIN) return undefined;
  if (v === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ''))) return undefined;
  return v;
}

/** Nix's canonPath: absolute, `.` and `..` resolved, no `//`, no trailing slash (except `/`). */
export function canonPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

/** Nix's absPath: relative paths resolve against `dir`, then canonicalised. */
export function absPath(p: string, dir: string): string {
  return canonPath(p.startsWith('/') ? p : `${dir}/${p}`);
}
