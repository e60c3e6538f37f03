// cli/io: where the CLI writes. Strings in the evaluator are byte strings (one char = one
// byte), so output is encoded as latin1 to put the original bytes back.

export interface IO {
  out(s: string): void;
  err(s: string): void;
  readonly outIsTTY: boolean;
  readonly errIsTTY: boolean;
}

export function stdio(): IO {
  return {
    out: (s) => void process.stdout.write(Buffer.from(s, 'latin1')),
    err: (s) => void process.stderr.write(Buffer.from(s, 'latin1')),
    outIsTTY: process.stdout.isTTY === true,
    errIsTTY: process.stderr.isTTY === true,
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
