// image/registry/auth: registry credentials and challenges. Finds a user's credentials the way
// skopeo and docker do — `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
// `~/.config/containers/auth.json`, `~/.docker/config.json` (`auths.<host>.auth` = base64
// `user:password`) — and parses `WWW-Authenticate` challenges (Basic, Bearer with realm,
// service, scope, error). Reads only the files named here, from the environment it is given;
// never prints and never writes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../../base/error.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** `USER:PASS` (the password may hold colons). */
export function parseCredentials(text: string): Credentials {
  const i = text.indexOf(':');
  if (i <= 0) throw new ImgError('E_USAGE', `credentials must be 'USER:PASSWORD', got '${text.replace(/:.*/, ':…')}'`);
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

/** The auth files consulted, in order (the first that has an entry for the host wins). */
export function authFiles(env: Record<string, string | undefined>): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  const home = env.HOME;
  if (home) {
    files.push(join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'containers', 'auth.json'));
    files.push(join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'));
  }
  return files;
}

/** Key of an `auths` entry as a `host[/path]` (scheme and trailing slashes dropped). */
function normaliseKey(k: string): string {
  return k.replace(/^https?:\/\//, '').replace(/\/+$/, '').replace(/^index\.docker\.io\/v1$/, 'docker.io').replace(/\/v[12]$/, '');
}

/**
 * Credentials for `registry` (host as written) and `repository` from the first auth file with a
 * matching entry: the longest `host/namespace` prefix, then the bare host.
 */
export function lookupCredentials(registry: string, repository: string, env: Record<string, string | undefined>): Credentials | undefined {
  const want = `${registry}/${repository}`;
  for (const file of authFiles(env)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    const auths = (json as { auths?: Record<string, { auth?: string }> }).auths;
    if (!auths || typeof auths !== 'object') continue;
    let best: { len: number; auth: string } | undefined;
    for (const [k, v] of Object.entries(auths)) {
      const key = normaliseKey(k);
      if (typeof v?.auth !== 'string' || v.auth === '') continue;
      if (key === registry || want === key || want.startsWith(`${key}/`)) {
        if (!best || key.length > best.len) best = { len: key.length, auth: v.auth };
      }
    }
    if (best) {
      const text = Buffer.from(best.auth, 'base64').toString('utf8');
      const i = text.indexOf(':');
      if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
    }
  }
  return undefined;
}

export interface Challenge {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

/** `Bearer realm="…",service="…",scope="…"` → scheme and parameters (lowercased names). */
export function parseChallenge(header: string): Challenge {
  const m = /^\s*(\S+)\s*(.*)$/.exec(header);
  const scheme = (m?.[1] ?? '').toLowerCase();
  const params = new Map<string, string>();
  const re = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (const p of (m?.[2] ?? '').matchAll(re)) params.set(p[1]!.toLowerCase(), (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1'));
  return { scheme, params };
}

export const basicAuth = (c: Credentials): string => `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
