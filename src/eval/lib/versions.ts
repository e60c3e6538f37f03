// eval/lib/versions: Nix 2.8's version strings (`builtins.splitVersion`,
// `builtins.compareVersions`, `builtins.parseDrvName`), on byte strings. It owns the
// component scanner and the ordering: numbers compare as numbers, `pre` is lowest, a missing
// component is below a number, a number is above any word, words compare bytewise. A numeric
// component that does not fit a C `int` is treated as a word, as Nix's string2Int<int> fails
// on it (so `compareVersions "99999999999" "1"` is -1). It never sees evaluator values.

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isSep = (c: number): boolean => c === 0x2e || c === 0x2d;

/** The next component of `s` from `pos`: skips `.`/`-`, then a run of digits or of others. */
function nextComponent(s: string, pos: number): [component: string, next: number] {
  let p = pos;
  while (p < s.length && isSep(s.charCodeAt(p))) p++;
  const start = p;
  if (p < s.length && isDigit(s.charCodeAt(p))) while (p < s.length && isDigit(s.charCodeAt(p))) p++;
  else while (p < s.length && !isDigit(s.charCodeAt(p)) && !isSep(s.charCodeAt(p))) p++;
  return [s.slice(start, p), p];
}

/** string2Int<int>: the value of an all-digit component that fits in an int, else null. */
function toInt(c: string): number | null {
  if (c === '') return null;
  for (let i = 0; i < c.length; i++) if (!isDigit(c.charCodeAt(i))) return null;
  const n = Number(c);
  return n <= 2147483647 ? n : null;
}

function componentLessThan(c1: string, c2: string): boolean {
  const n1 = toInt(c1);
  const n2 = toInt(c2);
  if (n1 !== null && n2 !== null) return n1 < n2;
  if (c1 === '' && n2 !== null) return true;
  if (c1 === 'pre' && c2 !== 'pre') return true;
  if (c2 === 'pre') return false;
  // `2.3a` < `2.3.1`
  if (n2 !== null) return true;
  if (n1 !== null) return false;
  return c1 < c2;
}

/** `builtins.splitVersion`: `"1.2.3pre4-5"` → `["1", "2", "3", "pre", "4", "5"]`. */
export function splitVersion(v: string): string[] {
  const out: string[] = [];
  let p = 0;
  while (p < v.length) {
    const [c, next] = nextComponent(v, p);
    if (c === '') break;
    out.push(c);
    p = next;
  }
  return out;
}

/** `builtins.compareVersions`: -1, 0 or 1. */
export function compareVersions(v1: string, v2: string): -1 | 0 | 1 {
  let p1 = 0;
  let p2 = 0;
  while (p1 < v1.length || p2 < v2.length) {
    const [c1, n1] = nextComponent(v1, p1);
    const [c2, n2] = nextComponent(v2, p2);
    p1 = n1;
    p2 = n2;
    if (componentLessThan(c1, c2)) return -1;
    if (componentLessThan(c2, c1)) return 1;
  }
  return 0;
}

/**
 * `builtins.parseDrvName`: splits at the first `-` followed by a byte that is not an ASCII
 * letter (`"foo-bar-1.2-beta"` → name `foo-bar`, version `1.2-beta`); no such `-`: version `""`.
 */
export function parseDrvName(s: string): { name: string; version: string } {
  for (let i = 0; i + 1 < s.length; i++)
    if (s.charCodeAt(i) === 0x2d && !isAlpha(s.charCodeAt(i + 1))) return { name: s.slice(0, i), version: s.slice(i + 1) };
  return { name: s, version: '' };
}
