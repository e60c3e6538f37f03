// Test helper: a real Distribution registry (`docker-registry`, Debian package) on 127.0.0.1 at a
// free port, with a generated config and its storage in a temp dir; optionally with htpasswd
// basic auth (test/registry/fixtures/htpasswd: user 'alice', password 'secret', a bcrypt line
// made once with Python's crypt.crypt(METHOD_BLOWFISH)). `stop()` kills exactly the PID it
// started and removes the temp dir. Never binds or contacts anything but the loopback address.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './tools.js';

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** The registry's log so far (stdout + stderr). */
  log(): string;
  stop(): Promise<void>;
}

export const HTPASSWD_USER = 'alice';
export const HTPASSWD_PASSWORD = 'secret';

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(host: string, child: ChildProcess, logText: () => string): Promise<void> {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${logText()}`);
    try {
      const r = await fetch(`http://${host}/v2/`);
      if (r.status === 200 || r.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry on ${host} did not answer within 15 s: ${logText()}`);
}

/** Starts a registry; `auth: 'htpasswd'` makes it ask for alice:secret (Basic). */
export async function startRegistry(opts: { auth?: 'htpasswd' } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'imgeval-registry-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const auth =
      opts.auth === 'htpasswd'
        ? `auth:\n  htpasswd:\n    realm: imgeval-test\n    path: ${join(dir, 'htpasswd')}\n`
        : '';
    if (opts.auth === 'htpasswd') writeFileSync(join(dir, 'htpasswd'), readFileSync(join(ROOT, 'test/registry/fixtures/htpasswd')));
    const config = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: ${host}
${auth}`;
    writeFileSync(join(dir, 'config.yml'), config);
    const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
    try {
      await waitReady(host, child, () => text);
    } catch (e) {
      lastError = e;
      if (child.exitCode === null) child.kill('SIGTERM');
      continue;
    }
    const pid = child.pid!;
    return {
      host,
      port,
      pid,
      dir,
      log: () => text,
      async stop() {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          process.kill(pid, 'SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
