// Test helper: a real Distribution registry (`docker-registry`, Debian package) on 127.0.0.1 at a
// free port, with a generated config and its storage in a temp dir; optionally with htpasswd
// basic auth (test/registry/fixtures/htpasswd: user 'alice', password 'secret', a bcrypt line
// made once with Python's crypt.crypt(METHOD_BLOWFISH)), or token auth (a loopback token server
// in this process issuing RS256 JWTs with an x5c chain to a cert made with openssl, for alice:
// secret only). `stop()` kills exactly the PID it started, closes the token server and removes
// the temp dir. Never binds or contacts anything but the loopback address.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
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

/** A loopback token server (Docker registry token spec) granting what alice:secret asks for. */
async function startTokenServer(dir: string): Promise<{ server: Server; realm: string; requests: string[] }> {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2',
    '-subj', '/CN=imgeval-test-issuer', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
  ], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'key.pem'));
  const x5c = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw.toString('base64');
  const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.search);
    if (req.headers.authorization !== `Basic ${Buffer.from(`${HTPASSWD_USER}:${HTPASSWD_PASSWORD}`).toString('base64')}`) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="imgeval-token"' }).end();
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).map((one) => {
      const [type, name, actions] = one.split(':');
      return { type, name, actions: (actions ?? '').split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const head = b64u(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [x5c] }));
    const claims = b64u(JSON.stringify({ iss: 'imgeval-issuer', sub: HTPASSWD_USER, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(12).toString('hex'), access }));
    const sig = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(key);
    const token = `${head}.${claims}.${b64u(sig)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { server, realm: `http://127.0.0.1:${port}/token`, requests };
}

/**
 * Starts a registry; `auth: 'htpasswd'` makes it ask for alice:secret (Basic), `auth: 'token'`
 * sends clients to a token server that gives tokens for alice:secret (Bearer).
 */
export async function startRegistry(opts: { auth?: 'htpasswd' | 'token' } = {}): Promise<TestRegistry & { tokenRequests?: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'imgeval-registry-'));
  const tokens = opts.auth === 'token' ? await startTokenServer(dir) : undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const auth =
      opts.auth === 'htpasswd'
        ? `auth:\n  htpasswd:\n    realm: imgeval-test\n    path: ${join(dir, 'htpasswd')}\n`
        : tokens
          ? `auth:\n  token:\n    realm: ${tokens.realm}\n    service: imgeval-registry\n    issuer: imgeval-issuer\n    rootcertbundle: ${join(dir, 'cert.pem')}\n`
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
      ...(tokens ? { tokenRequests: tokens.requests } : {}),
      async stop() {
        if (tokens) await new Promise((r) => tokens.server.close(r));
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          process.kill(pid, 'SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (tokens) tokens.server.close();
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
