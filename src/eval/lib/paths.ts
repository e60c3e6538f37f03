// eval/lib/paths: the path-string functions of Nix 2.8, on byte strings: `canonPath` (what
// path values, `path + "..."` and `toPath` go through), and the string rules of `baseNameOf`
// and `dirOf` (the evaluator decides the result type: `dirOf` of a path value is a path,
// `baseNameOf` always gives a string). It never touches the file system: symlinks are not
// resolved, and `..` is purely textual. It never sees evaluator values.

import { ImgError } from '../../base/error.js';

/**
 * An absolute path with `.` and `..` resolved, repeated slashes collapsed and no trailing
 * slash; `..` above `/` stays at `/`. Throws ImgError E_EVAL `not an absolute path: '<p>'`
 * for a path that does not start with `/` (the wording of Nix's canonPath; in Nix the
 * evaluator's callers refuse relative strings earlier, with their own messages).
 */
export function canonPath(p: string): string {
  if (p.length === 0 || p.charCodeAt(0) !== 0x2f) throw new ImgError('E_EVAL', `not an absolute path: '${p}'`);
  const parts: string[] = [];
  let i = 0;
  const n = p.length;
  while (i < n) {
    while (i < n && p.charCodeAt(i) === 0x2f) i++;
    if (i >= n) break;
    let j = p.indexOf('/', i);
    if (j < 0) j = n;
    const c = p.slice(i, j);
    if (c === '..') parts.pop();
    else if (c !== '.') parts.push(c);
    i = j;
  }
  return parts.length === 0 ? '/' : '/' + parts.join('/');
}

/**
 * `baseNameOf`: the text after the last `/`, ignoring one trailing `/`:
 * `"/a/b/"` → `"b"`, `"a"` → `"a"`, `"/"` → `""`, `"a//"` → `""`.
 */
export function baseNameOf(s: string): string {
  if (s.length === 0) return '';
  let last = s.length - 1;
  if (s.charCodeAt(last) === 0x2f && last > 0) last--;
  const slash = s.lastIndexOf('/', last);
  const start = slash < 0 ? 0 : slash + 1;
  return s.slice(start, last + 1);
}

/**
 * `dirOf`: the text before the last `/` (`"/"` when that is the first byte), `"."` when there
 * is none: `"/a/b"` → `"/a"`, `"a/b/"` → `"a/b"`, `"/a"` → `"/"`, `"a"` → `"."`.
 */
export function dirOf(s: string): string {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return '.';
  return slash === 0 ? '/' : s.slice(0, slash);
}
