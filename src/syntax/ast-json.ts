// syntax/ast-json: the core AST as JSON text, for `imgeval parse --json` and the golden files
// of test/lang/parse-ok: spans become [start, end] offsets, bigints are written as exact JSON
// numbers, keys keep the AST's own order. Pure text; never evaluates.

import type { Expr } from './ast.js';

/** JSON for an AST (2-space indented when `pretty`). */
export function astToJSON(e: Expr, pretty = true): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    e,
    (key, v: unknown) => {
      if (key === 'span' && v && typeof v === 'object' && 'start' in v) {
        const s = v as { start: number; end: number };
        return [s.start, s.end];
      }
      if (typeof v === 'bigint') {
        marks.push(v.toString());
        return `\u0000bigint${marks.length - 1}\u0000`;
      }
      return v;
    },
    pretty ? 2 : undefined,
  );
  return text
    .replace(/"\\u0000bigint(\d+)\\u0000"/g, (_, i: string) => marks[Number(i)]!)
    .replace(/\[\n\s+(\d+),\n\s+(\d+)\n\s+\]/g, '[$1, $2]');
}
