// Image references (cases/references.json: Docker's reference grammar and Docker Hub defaults,
// as skopeo resolves them), credentials from auth files (containers auth.json and
// ~/.docker/config.json forms, host and host/namespace keys, precedence), and
// WWW-Authenticate challenges as Distribution 2.8.2 sends them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isImgError } from '../../src/base/error.js';
import { authFiles, lookupCredentials, parseChallenge, parseCredentials } from '../../src/image/registry/auth.js';
import { parseReference } from '../../src/image/registry/reference.js';

const test = suite('registry references and auth');
const home = mkdtempSync(join(tmpdir(), 'imgeval-auth-'));
test.after(() => rmSync(home, { recursive: true, force: true }));

const cases = JSON.parse(readFileSync(join(import.meta.dirname, 'cases', 'references.json'), 'utf8')) as [string, Record<string, string> | string][];
for (const [text, want] of cases) {
  test(`reference ${text}`, () => {
    if (typeof want === 'string') {
      try {
        parseReference(text);
      } catch (e) {
        assert.ok(isImgError(e));
        assert.ok((e as Error).message.includes(want), (e as Error).message);
        return;
      }
      assert.unreachable(`'${text}' accepted`);
    } else assert.equal({ ...parseReference(text) }, want);
  });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('credentials: REGISTRY_AUTH_FILE first, then containers auth.json, then ~/.docker/config.json; namespace keys win', () => {
  mkdirSync(join(home, '.docker'), { recursive: true });
  mkdirSync(join(home, '.config', 'containers'), { recursive: true });
  writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:1') }, 'reg.example:5000': { auth: b64('docker:2') } } }));
  writeFileSync(join(home, '.config', 'containers', 'auth.json'), JSON.stringify({ auths: { 'reg.example:5000': { auth: b64('podman:3') }, 'reg.example:5000/team': { auth: b64('team:4:with:colons') } } }));
  const env = { HOME: home };
  assert.equal(authFiles(env), [join(home, '.config', 'containers', 'auth.json'), join(home, '.docker', 'config.json')]);
  assert.equal(lookupCredentials('docker.io', 'library/busybox', env), { username: 'hub', password: '1' });
  assert.equal(lookupCredentials('reg.example:5000', 'other/app', env), { username: 'podman', password: '3' });
  assert.equal(lookupCredentials('reg.example:5000', 'team/app', env), { username: 'team', password: '4:with:colons' });
  assert.is(lookupCredentials('elsewhere.example', 'x', env), undefined);
  const file = join(home, 'explicit.json');
  writeFileSync(file, JSON.stringify({ auths: { 'reg.example:5000': { auth: b64('explicit:5') } } }));
  assert.equal(lookupCredentials('reg.example:5000', 'team/app', { ...env, REGISTRY_AUTH_FILE: file }), { username: 'explicit', password: '5' });
  assert.equal(parseCredentials('u:p:q'), { username: 'u', password: 'p:q' });
  assert.throws(() => parseCredentials('nocolon'), /USER:PASSWORD/);
});

test('challenges', () => {
  const c = parseChallenge('Bearer realm="http://127.0.0.1:5078/token",service="fo-registry",scope="repository:authdemo:pull,push",error="insufficient_scope"');
  assert.is(c.scheme, 'bearer');
  assert.is(c.params.get('realm'), 'http://127.0.0.1:5078/token');
  assert.is(c.params.get('service'), 'fo-registry');
  assert.is(c.params.get('scope'), 'repository:authdemo:pull,push');
  assert.is(c.params.get('error'), 'insufficient_scope');
  const b = parseChallenge('Basic realm="imgeval-test"');
  assert.is(b.scheme, 'basic');
  assert.is(b.params.get('realm'), 'imgeval-test');
});

test.run();
