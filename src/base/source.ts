// base/source: source files and spans. A span is a pair of UTF-16 offsets into one SourceFile;
// lines and columns are computed only when an error is rendered (see code-frame.ts).
// Never imports anything of the project.

export class SourceFile {
  private lineStarts: number[] | undefined;
  constructor(
    /** What the user sees in messages: a file path, or `(string)` / `(stdin)` / `<prelude>`. */
    readonly name: string,
    readonly text: string,
    /** Absolute directory that relative paths in this source resolve against. */
    readonly dir: string,
  ) {}

  /** 1-based line and column (in UTF-16 code units, counting a tab as one column) of an offset. */
  position(offset: number): { line: number; col: number } {
    const starts = this.starts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its line terminator. */
  line(n: number): string {
    const starts = this.starts();
    const s = starts[n - 1];
    if (s === undefined) return '';
    const e = n < starts.length ? starts[n]! : this.text.length;
    return this.text.slice(s, e).replace(/\r?\n$/, '');
  }

  get lineCount(): number {
    return this.starts().length;
  }

  private starts(): number[] {
    if (!this.lineStarts) {
      const s = [0];
      const t = this.text;
      for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 10) s.push(i + 1);
      this.lineStarts = s;
    }
    return this.lineStarts;
  }
}

/** A half-open range [start, end) of offsets into `file`. */
export interface Span {
  readonly file: SourceFile;
  readonly start: number;
  readonly end: number;
}

export function span(file: SourceFile, start: number, end: number): Span {
  return { file, start, end };
}

/** `file:line:col` of a span's start. */
export function formatLocation(s: Span): string {
  const { line, col } = s.file.position(s.start);
  return `${s.file.name}:${line}:${col}`;
}
