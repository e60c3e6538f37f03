// build/build-log: the per-derivation build log (`<root>/nix/var/log/imgeval/drvs/<2>/<rest>`,
// Nix's layout, uncompressed) and the tail of its last lines kept in memory for error messages.
// Never interprets what builders write.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Lines of a failing build's log shown in its error. */
export const LOG_TAIL_LINES = 25;

/** `<root>/nix/var/log/imgeval/drvs/ab/cdef…-name.drv` for a drvPath. */
export function logFileOf(root: string, drvPath: string): string {
  const base = basename(drvPath);
  return join(root, 'nix', 'var', 'log', 'imgeval', 'drvs', base.slice(0, 2), base.slice(2));
}

export class BuildLog {
  private fd: number | undefined;
  private tail: string[] = [];
  private partial = '';

  constructor(
    readonly file: string,
    private readonly onLine?: (line: string) => void,
  ) {
    mkdirSync(join(file, '..'), { recursive: true });
    this.fd = openSync(file, 'w', 0o644);
  }

  /** Raw output of a builder (bytes); split into lines for the tail and the line callback. */
  write(chunk: Uint8Array): void {
    if (this.fd !== undefined) writeSync(this.fd, chunk);
    const text = this.partial + Buffer.from(chunk).toString('latin1');
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) this.addLine(l);
  }

  /** A line of our own (built-in builders, notes). */
  line(s: string): void {
    this.write(Buffer.from(s + '\n', 'latin1'));
  }

  private addLine(l: string): void {
    this.tail.push(l);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
    this.onLine?.(l);
  }

  /** The last lines written (at most LOG_TAIL_LINES). */
  lastLines(): string[] {
    return this.partial ? [...this.tail, this.partial].slice(-LOG_TAIL_LINES) : [...this.tail];
  }

  close(): void {
    if (this.partial) {
      this.addLine(this.partial);
      this.partial = '';
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
