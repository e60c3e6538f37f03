// image/registry/client: an HTTP client for one registry speaking the OCI distribution API
// (node:http/https, no extra dependency). It chooses the scheme (https; with tlsVerify false an
// unverified https that falls back to plain http, as skopeo's --tls-verify=false), answers
// 401 challenges once per request (Basic with the user's credentials; Bearer by fetching a
// token from the realm for the repository scope, with Basic credentials when it has them),
// streams request bodies from a factory (so a retried upload re-opens its source), and turns
// failures into ImgErrors that name the registry, the status and the registry's error codes.
// It never prints and never reads credentials itself (the caller passes them).

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { ImgError } from '../../base/error.js';
import { basicAuth, parseChallenge, type Credentials } from './auth.js';

export interface ClientOptions {
  readonly tlsVerify: boolean;
  readonly credentials?: Credentials;
  /** Actions to ask a token for (`pull` or `pull,push`). */
  readonly actions: string;
  /** Registry host as the user wrote it (for messages). */
  readonly registry: string;
  /** API host (`registry-1.docker.io` for docker.io). */
  readonly apiHost: string;
  readonly repository: string;
  readonly signal?: AbortSignal;
}

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly url: URL;
}

export interface RequestOptions {
  readonly headers?: Record<string, string>;
  /** A Buffer, or a factory of a fresh stream (with `size` bytes) for every attempt. */
  readonly body?: Buffer | { readonly size: number; open(): Readable };
}

const header = (r: Response, name: string): string | undefined => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};
export { header };

/** `{"errors":[{"code":…,"message":…}]}` → `CODE: message; …` (or the body's first line). */
export function registryErrors(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(j.errors) && j.errors.length) return j.errors.map((e) => `${e.code ?? '?'}: ${e.message ?? ''}`).join('; ');
  } catch {
    // not JSON
  }
  return body.toString('utf8').split('\n')[0]!.slice(0, 200);
}

export class RegistryClient {
  private scheme: 'https:' | 'http:' | undefined;
  private authorization: string | undefined;
  /** Bytes sent in request bodies (blob uploads and manifests). */
  bytesSent = 0;
  requests = 0;

  constructor(readonly opts: ClientOptions) {}

  private once(method: string, url: URL, o: RequestOptions): Promise<Response> {
    const headers: Record<string, string | number> = { 'User-Agent': 'imgeval', ...(o.headers ?? {}) };
    if (this.authorization && !('Authorization' in headers)) headers.Authorization = this.authorization;
    const body = o.body;
    if (body !== undefined) headers['Content-Length'] = Buffer.isBuffer(body) ? body.length : body.size;
    else if (method === 'PUT' || method === 'POST' || method === 'PATCH') headers['Content-Length'] = 0;
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method,
      headers,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: this.opts.tlsVerify } : {}),
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
    });
    this.requests++;
    return new Promise<Response>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url }));
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) {
        this.bytesSent += body.length;
        req.end(body);
      } else {
        const s = body.open();
        s.on('error', (e) => req.destroy(e));
        s.on('data', (c: Buffer) => (this.bytesSent += c.length));
        s.pipe(req);
      }
    });
  }

  private unreachable(e: unknown): ImgError {
    const err = e as { code?: string; message?: string };
    const why = err.code ? `${err.code}${err.message && !err.message.includes(err.code) ? ` (${err.message})` : ''}` : String(err.message ?? e);
    const notes = [{ message: `is it running, and is '${this.opts.registry}' the right host and port?` }];
    if (this.opts.tlsVerify && /SSL|TLS|EPROTO|certificate|CERT/i.test(why)) notes.push({ message: 'for a registry without TLS (or with a self-signed certificate) pass --tls-verify=false' });
    return new ImgError('E_REGISTRY', `cannot reach the registry '${this.opts.registry}': ${why}`, undefined, notes);
  }

  /** Picks https or (tlsVerify false) http by probing `/v2/`. */
  private async base(): Promise<string> {
    if (this.scheme) return `${this.scheme}//${this.opts.apiHost}`;
    try {
      await this.once('GET', new URL(`https://${this.opts.apiHost}/v2/`), {});
      this.scheme = 'https:';
    } catch (e) {
      if (this.opts.tlsVerify) throw this.unreachable(e);
      try {
        await this.once('GET', new URL(`http://${this.opts.apiHost}/v2/`), {});
        this.scheme = 'http:';
      } catch (e2) {
        throw this.unreachable(e2);
      }
    }
    return `${this.scheme}//${this.opts.apiHost}`;
  }

  /** Absolute URL for an API path (`/v2/…`) or a Location header (absolute or relative). */
  async url(pathOrLocation: string): Promise<URL> {
    return new URL(pathOrLocation, await this.base());
  }

  private async authenticate(challengeHeader: string | undefined): Promise<void> {
    const creds = this.opts.credentials;
    const needCreds = () =>
      new ImgError('E_REGISTRY_AUTH', `the registry '${this.opts.registry}' needs credentials for '${this.opts.repository}'`, undefined, [
        { message: 'give --creds USER:PASSWORD, or log in with `skopeo login` / `podman login` / `docker login` (imgeval reads $REGISTRY_AUTH_FILE, containers auth.json and ~/.docker/config.json)' },
      ]);
    if (!challengeHeader) throw needCreds();
    const ch = parseChallenge(challengeHeader);
    if (ch.scheme === 'basic') {
      if (!creds) throw needCreds();
      this.authorization = basicAuth(creds);
      return;
    }
    if (ch.scheme !== 'bearer') throw new ImgError('E_REGISTRY_AUTH', `the registry '${this.opts.registry}' asks for unsupported authentication '${ch.scheme}'`);
    const realm = ch.params.get('realm');
    if (!realm) throw new ImgError('E_REGISTRY_AUTH', `the registry '${this.opts.registry}' sent a Bearer challenge without a realm`);
    const tokenUrl = new URL(realm);
    const service = ch.params.get('service');
    if (service) tokenUrl.searchParams.set('service', service);
    const scopes = new Set<string>([`repository:${this.opts.repository}:${this.opts.actions}`]);
    for (const s of (ch.params.get('scope') ?? '').split(' ')) if (s) scopes.add(s);
    for (const s of scopes) tokenUrl.searchParams.append('scope', s);
    if (creds) tokenUrl.searchParams.set('account', creds.username);
    let res: Response;
    try {
      res = await this.once('GET', tokenUrl, { headers: creds ? { Authorization: basicAuth(creds) } : {} });
    } catch (e) {
      throw new ImgError('E_REGISTRY_AUTH', `cannot reach the token server '${tokenUrl.origin}' of '${this.opts.registry}': ${(e as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) throw creds ? new ImgError('E_REGISTRY_AUTH', `the token server of '${this.opts.registry}' refused the credentials of '${creds.username}'`) : needCreds();
    if (res.status !== 200) throw new ImgError('E_REGISTRY_AUTH', `the token server of '${this.opts.registry}' answered HTTP ${res.status}: ${registryErrors(res.body)}`);
    let token: string | undefined;
    try {
      const j = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string };
      token = j.token ?? j.access_token;
    } catch {
      // handled below
    }
    if (!token) throw new ImgError('E_REGISTRY_AUTH', `the token server of '${this.opts.registry}' sent no token`);
    this.authorization = `Bearer ${token}`;
  }

  /** One API request, authenticating on a 401 (once); `path` is `/v2/…` or an upload Location. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const url = await this.url(path);
    let res: Response;
    try {
      res = await this.once(method, url, o);
      if (res.status === 401) {
        const had = this.authorization;
        await this.authenticate(header(res, 'www-authenticate'));
        res = await this.once(method, url, o);
        if (res.status === 401) {
          const who = this.opts.credentials ? ` for '${this.opts.credentials.username}'` : '';
          throw new ImgError('E_REGISTRY_AUTH', `the registry '${this.opts.registry}' refused access to '${this.opts.repository}'${who}${had ? '' : ''}: ${registryErrors(res.body)}`, undefined, [
            { message: 'check the credentials (--creds USER:PASSWORD or your auth file)' },
          ]);
        }
      }
    } catch (e) {
      if (e instanceof ImgError) throw e;
      throw this.unreachable(e);
    }
    return res;
  }

  /** An ImgError for an unexpected answer to `what`. */
  fail(what: string, res: Response): ImgError {
    return new ImgError('E_REGISTRY', `${what} on '${this.opts.registry}' failed: HTTP ${res.status} ${registryErrors(res.body)}`.trimEnd());
  }
}
