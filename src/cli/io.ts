// cli/io: where the CLI writes. Strings in the evaluator are byte strings (one char = one
// byte), so output is encoded as latin1 to put the original bytes back. Writes go straight to
// file descriptors 1 and 2, synchronously (process.stdout would load Node's stream modules at
// start-up, and its writes to a pipe may still be pending at exit); whether they are terminals
// is asked only when someone wants to know.

import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';

export interface IO {
  out(s: string): void;
  err(s: string): void;
  readonly outIsTTY: boolean;
  readonly errIsTTY: boolean;
}

/**
 * Writes all of `buf` to `fd`. A non-blocking pipe that is full (EAGAIN) is waited on; a pipe
 * whose reader is gone (EPIPE, e.g. `imgeval eval … | head -1`) takes no more output, quietly.
 */
function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      else if (code === 'EPIPE') return;
      else throw e;
    }
  }
}

export function stdio(): IO {
  let outTTY: boolean | undefined;
  let errTTY: boolean | undefined;
  return {
    out: (s) => writeAll(1, Buffer.from(s, 'latin1')),
    err: (s) => writeAll(2, Buffer.from(s, 'latin1')),
    get outIsTTY() {
      return (outTTY ??= isatty(1));
    },
    get errIsTTY() {
      return (errTTY ??= isatty(2));
    },
  };
}

/** An IO that collects output, for tests. */
export function memoryIO(): IO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(s: string) {
      io.stdout += s;
    },
    err(s: string) {
      io.stderr += s;
    },
    outIsTTY: false,
    errIsTTY: false,
  };
  return io;
}
