// Test helper: asks the real Nix 2.8 (`nix-instantiate`) for answers, in a private environment
// that never touches the real /nix (NIX_REMOTE=dummy://, temporary state and config dirs).
// Used only by gen-goldens.ts to write goldens; tests read the goldens and never need Nix.
// Everything here is bytes: expressions are written and outputs read as latin1 strings.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let work: string | undefined;
function workDir(): string {
  if (!work) {
    work = mkdtempSync(join(tmpdir(), 'imgeval-oracle-'));
    for (const d of ['etc', 'var/nix', 'var/log/nix', 'home']) mkdirSync(join(work, d), { recursive: true });
    writeFileSync(join(work, 'etc/nix.conf'), 'build-users-group =\nsubstituters =\nsandbox = false\n');
    process.on('exit', () => rmSync(work!, { recursive: true, force: true }));
  }
  return work;
}

export interface NixRun {
  ok: boolean;
  /** stdout, latin1-decoded (one char per byte). */
  stdout: string;
  /** stderr, latin1-decoded. */
  stderr: string;
}

let counter = 0;

/** Runs `nix-instantiate --eval --strict [--json] [args] FILE` on `expr` (a latin1 string). */
export function runNix(expr: string, opts: { json?: boolean; args?: string[]; timeoutMs?: number } = {}): NixRun {
  const w = workDir();
  const file = join(w, `expr-${counter++}.nix`);
  writeFileSync(file, Buffer.from(expr, 'latin1'));
  const args = ['--eval', '--strict', ...(opts.json ? ['--json'] : []), ...(opts.args ?? []), file];
  const r = spawnSync('nix-instantiate', args, {
    cwd: w,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NIX_REMOTE: 'dummy://',
      NIX_CONF_DIR: join(w, 'etc'),
      NIX_STATE_DIR: join(w, 'var/nix'),
      NIX_LOG_DIR: join(w, 'var/log/nix'),
      NIX_STORE_DIR: '/nix/store',
      HOME: join(w, 'home'),
    },
    maxBuffer: 1 << 28,
    timeout: opts.timeoutMs,
    killSignal: 'SIGKILL',
  });
  rmSync(file, { force: true });
  const timedOut = r.signal === 'SIGKILL' && opts.timeoutMs !== undefined;
  return {
    ok: r.status === 0,
    stdout: r.stdout.toString('latin1'),
    stderr: timedOut ? 'error: nix timed out' : r.stderr.toString('latin1'),
  };
}

/** The message of the innermost `error: ...` line of a Nix stderr. */
export function errorMessage(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /^\s*error: /.test(l));
  const last = lines[lines.length - 1];
  // Nix itself can crash (a failed assertion in a library): report that as the message.
  if (last === undefined) return `nix crashed: ${stderr.trim().split('\n')[0]}`;
  return last.replace(/^\s*error: /, '');
}

/** A Nix string literal for a byte string (latin1). */
export function nixString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (c === '$' && s[i + 1] === '{') out += '\\$';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\0') throw new Error('a Nix 2.8 string cannot hold NUL');
    else out += c;
  }
  return out + '"';
}

export type Outcome = { value: unknown } | { error: string };

/**
 * Evaluates each expression (Nix source, latin1) and returns its value as JSON (`--json`; byte
 * strings stay latin1) or the error message. One nix-instantiate call for the whole batch; when
 * the batch fails, it is split in halves until the failing expressions stand alone.
 */
export function evalJSONBatch(exprs: string[], timeoutMs?: number): Outcome[] {
  if (exprs.length === 0) return [];
  if (exprs.length > 64) {
    const out: Outcome[] = [];
    for (let i = 0; i < exprs.length; i += 64) out.push(...evalJSONBatch(exprs.slice(i, i + 64), timeoutMs));
    return out;
  }
  const r = runNix(`[\n${exprs.map((e) => `(${e})`).join('\n')}\n]`, { json: true, timeoutMs });
  if (r.ok) {
    const v = JSON.parse(r.stdout) as unknown[];
    if (v.length !== exprs.length) throw new Error('nix returned a list of the wrong length');
    return v.map((value) => ({ value }));
  }
  if (exprs.length === 1) return [{ error: errorMessage(r.stderr) }];
  const mid = exprs.length >> 1;
  return [...evalJSONBatch(exprs.slice(0, mid), timeoutMs), ...evalJSONBatch(exprs.slice(mid), timeoutMs)];
}

/** As evalJSONBatch, but each value is what `--eval --strict` prints for it (one line each). */
export function evalPrintedBatch(exprs: string[]): ({ printed: string } | { error: string })[] {
  if (exprs.length === 0) return [];
  // Print each value on its own line via trace-free means: a list of strings would re-escape,
  // so evaluate one expression per nix call when the batch cannot be split on whitespace.
  const out: ({ printed: string } | { error: string })[] = [];
  for (const e of exprs) {
    const r = runNix(e);
    out.push(r.ok ? { printed: r.stdout.replace(/\n$/, '') } : { error: errorMessage(r.stderr) });
  }
  return out;
}

/**
 * Runs `expr` and returns the `trace:` messages it printed (strings are traced raw), in order.
 * Used to let Nix itself list the arguments that corpus files pass to a builtin.
 */
export function traceMessages(expr: string, args: string[] = []): string[] {
  const r = runNix(expr, { args });
  if (!r.ok) throw new Error(`nix failed:\n${r.stderr}`);
  const out: string[] = [];
  for (const line of r.stderr.split('\n')) if (line.startsWith('trace: ')) out.push(line.slice(7));
  return out;
}
