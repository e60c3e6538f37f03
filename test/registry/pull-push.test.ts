// Images through a real registry (docker-registry on 127.0.0.1, started and stopped by PID here):
// `imgeval push` of an image built by imgeval (digest as the registry and skopeo see it, blobs
// skipped on a second push, one changed layer → one layer uploaded), `imgeval prefetch-image`,
// pullImage by digest used as fromImage of buildImage and buildLayeredImage and held against
// ../shared/oracles/image-check, the same pullImage in two fresh stores giving the same bytes,
// and the failures (wrong sha256, wrong digest, unreachable registry, missing credentials,
// hostile archive) each giving one clear error with nothing registered.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isImgError } from '../../src/base/error.js';
import { toSRI } from '../../src/base/hash.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { normaliseDockerArchive } from '../../src/image/registry/normalise.js';
import { TarWriter, fdSink, type TarEntry } from '../../src/image/tar-writer.js';
import { ROOT, needTool } from '../helpers/tools.js';
import { HTPASSWD_PASSWORD, HTPASSWD_USER, freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildImg, imageCheck, tarCat, tempStore, type Built } from '../image-build/helpers.js';

const test = suite('registry: push, pullImage, prefetch-image');
const execFileAsync = promisify(execFile);
const ok = needTool('registry tests', 'docker-registry', 'skopeo');
const store = tempStore('imgeval-registry-');
const scratch = mkdtempSync(join(tmpdir(), 'imgeval-registry-fx-'));
let reg: TestRegistry;
let busybox: Built;
let pushed = '';

async function cli(args: string[]): Promise<{ rc: number; out: string; err: string }> {
  const io = memoryIO();
  const rc = await main(args, io);
  return { rc, out: io.stdout, err: io.stderr };
}

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest();

const pullExpr = (o: { host: string; repo?: string; digest: string; hash: string; tag?: string }) =>
  `pullImage { imageName = "${o.host}/${o.repo ?? 'demo/busybox'}"; imageDigest = "${o.digest}"; hash = "${o.hash}"; finalImageName = "pulled/busybox"; finalImageTag = "${o.tag ?? 'v1'}"; tlsVerify = false; }`;

/** Store entries (not .drv, not .lock) whose name contains `part`. */
const storeEntries = (root: string, part: string) =>
  readdirSync(join(root, 'nix', 'store')).filter((n) => n.includes(part) && !n.endsWith('.drv') && !n.endsWith('.lock'));

async function buildFails(root: string, expr: string, code: string, re: RegExp): Promise<string> {
  try {
    await buildImg(root, { expr });
  } catch (e) {
    assert.ok(isImgError(e), `not an ImgError: ${(e as Error).stack}`);
    const err = e as Error & { code: string; notes?: { message: string }[] };
    const text = [err.message, ...(err.notes ?? []).map((n) => n.message)].join('\n');
    assert.is(err.code, code, text);
    assert.match(text, re);
    assert.not.match(text, /\n\s+at /, 'no JS stack trace');
    return text;
  }
  assert.unreachable(`expected the build to fail with ${code}`);
  return '';
}

test.before(async () => {
  if (!ok) return;
  reg = await startRegistry();
  busybox = (await buildImg(store.root, { file: join(ROOT, 'examples', 'busybox.img') })).get('')!;
});

test.after(async () => {
  await reg?.stop();
  store.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

test('push: prints the manifest digest the registry serves; a second push uploads nothing', async () => {
  if (!ok) return;
  const r = await cli(['push', busybox.physical, `docker://${reg.host}/demo/busybox:v1`, '--tls-verify=false']);
  assert.is(r.rc, 0, r.err);
  pushed = r.out.trim();
  assert.match(pushed, /^sha256:[0-9a-f]{64}$/);
  const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/demo/busybox:v1`]);
  assert.is(`sha256:${createHash('sha256').update(raw).digest('hex')}`, pushed);
  // the config (image ID) is the archive's own
  const manifest = JSON.parse(tarCat(busybox.physical, 'manifest.json').toString())[0];
  const cfg = tarCat(busybox.physical, manifest.Config);
  assert.is(JSON.parse(raw.toString()).config.digest, `sha256:${createHash('sha256').update(cfg).digest('hex')}`);
  assert.match(r.err, /2 blob\(s\) uploaded/);
  const again = await cli(['push', busybox.physical, `docker://${reg.host}/demo/busybox:v1`, '--tls-verify=false']);
  assert.is(again.out.trim(), pushed);
  assert.match(again.err, /0 blob\(s\) uploaded \(0 B\), 2 skipped/);
});

test('prefetch-image by tag; pullImage by digest as fromImage of buildImage and buildLayeredImage passes image-check', async () => {
  if (!ok) return;
  const pf = await cli(['prefetch-image', `${reg.host}/demo/busybox:v1`, '--tls-verify=false', '--final-image-name', 'pulled/busybox', '-q']);
  assert.is(pf.rc, 0, pf.err);
  assert.ok(pf.out.includes(`imageDigest = "${pushed}";`), pf.out);
  const hash = /hash = "(sha256-[^"]+)";/.exec(pf.out)![1]!;
  assert.ok(pf.out.includes('tlsVerify = false;'), pf.out);
  const pull = pullExpr({ host: reg.host, digest: pushed, hash });
  const built = await buildImg(store.root, {
    expr: `let base = ${pull}; in {
      pulled = base;
      plain = buildImage { name = "on-pulled"; tag = "1"; fromImage = base; copyToRoot = writeTextDir "etc/added" "added on top\\n"; config.Cmd = [ "/bin/sh" ]; };
      layered = buildLayeredImage { name = "layered-on-pulled"; tag = "1"; fromImage = base; contents = [ (writeTextDir "etc/layered" "layered on top\\n") ]; config.Cmd = [ "/bin/sh" ]; };
    }`,
  });
  const pulled = built.get('pulled')!;
  assert.is(toSRI('sha256', sha256File(pulled.physical)), hash, 'prefetch-image and the build agree');
  assert.equal(JSON.parse(tarCat(pulled.physical, 'manifest.json').toString())[0].RepoTags, ['pulled/busybox:v1']);
  if (!needTool('image-check', 'podman', 'umoci', 'oci-image-tool')) return;
  const a = imageCheck(built.get('plain')!.physical, 'on-pulled:1', ['/bin/sh', '-c', 'cat /etc/greeting /etc/added']);
  assert.ok(a.ok && a.output.includes('hello from busybox') && a.output.includes('added on top'), a.output);
  const b = imageCheck(built.get('layered')!.physical, 'layered-on-pulled:1', ['/bin/sh', '-c', 'cat /etc/greeting /etc/layered']);
  assert.ok(b.ok && b.output.includes('layered on top'), b.output);
  const c = imageCheck(pulled.physical, 'pulled/busybox:v1', ['/bin/sh', '-c', 'cat /etc/greeting']);
  assert.ok(c.ok && c.output.includes('hello from busybox'), c.output);
});

test('the same pullImage realised in two fresh stores gives the same hash (and sha256 in hex works too)', async () => {
  if (!ok) return;
  const hashes: string[] = [];
  for (let i = 0; i < 2; i++) {
    const s = tempStore('imgeval-registry-det-');
    try {
      try {
        await buildImg(s.root, { expr: pullExpr({ host: reg.host, digest: pushed, hash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }) });
        assert.unreachable('a placeholder hash must not match');
      } catch (e) {
        const notes = ((e as { notes?: { message: string }[] }).notes ?? []).map((n) => n.message).join('\n');
        hashes.push(/got:\s+(sha256-\S+)/.exec(notes)![1]!.replace(/\)$/, ''));
      }
    } finally {
      s.cleanup();
    }
  }
  assert.is(hashes[0], hashes[1]);
  const hex = Buffer.from(hashes[0]!.slice(7), 'base64').toString('hex');
  const s = tempStore('imgeval-registry-hex-');
  try {
    const b = (await buildImg(s.root, { expr: pullExpr({ host: reg.host, digest: pushed, hash: hex }).replace('hash =', 'sha256 =') })).get('')!;
    assert.is(sha256File(b.physical).toString('hex'), hex);
  } finally {
    s.cleanup();
  }
});

test('normalisation: the same image in other layouts (imgeval buildImage, skopeo docker-archive, pulled from the registry) gives the same bytes', async () => {
  if (!ok) return;
  const viaSkopeo = join(scratch, 'via-skopeo.tar');
  const pulled = join(scratch, 'pulled-raw.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${busybox.physical}`, `docker-archive:${viaSkopeo}:x/y:z`]);
  execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/demo/busybox@${pushed}`, `docker-archive:${pulled}:x/y:z`]);
  const outs: string[] = [];
  for (const [i, src] of [busybox.physical, viaSkopeo, pulled].entries()) {
    const out = join(scratch, `norm-${i}.tar`);
    await normaliseDockerArchive(src, out, 'pulled/busybox:v1', join(scratch, `norm-work-${i}`));
    outs.push(createHash('sha256').update(readFileSync(out)).digest('hex'));
  }
  assert.is(outs[1], outs[0], 'skopeo docker-archive layout');
  assert.is(outs[2], outs[0], 'pulled from the registry');
  const raw = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  assert.is.not(raw(viaSkopeo), raw(busybox.physical), 'the inputs differ');
});

test('a wrong sha256, a wrong digest, an unreachable registry: one clear error each, nothing registered', async () => {
  if (!ok) return;
  const s = tempStore('imgeval-registry-err-');
  try {
    const wrong = 'sha256-' + Buffer.alloc(32, 7).toString('base64');
    const t1 = await buildFails(s.root, pullExpr({ host: reg.host, digest: pushed, hash: wrong, tag: 'e1' }), 'E_HASH_MISMATCH', /specified: sha256-Bwc[\s\S]*got:\s+sha256-/);
    assert.ok(t1.includes('hash mismatch'), t1);
    assert.match(t1, new RegExp(`to accept this content, write "sha256-[A-Za-z0-9+/=]+" in place of "${wrong.replace(/[+/]/g, '\\$&')}"`));
    assert.equal(storeEntries(s.root, 'docker-image-pulled-busybox-e1'), []);
    const noDigest = 'sha256:' + '1'.repeat(64);
    await buildFails(s.root, pullExpr({ host: reg.host, digest: noDigest, hash: wrong, tag: 'e2' }), 'E_PULL', /the registry has no such image[\s\S]*check imageName and imageDigest/);
    assert.equal(storeEntries(s.root, 'docker-image-pulled-busybox-e2'), []);
    const port = await freePort();
    const t3 = await buildFails(s.root, pullExpr({ host: `127.0.0.1:${port}`, digest: pushed, hash: wrong, tag: 'e3' }), 'E_PULL', /cannot reach the registry '127\.0\.0\.1:\d+'/);
    assert.ok(!t3.includes('hash mismatch'));
    assert.equal(storeEntries(s.root, 'docker-image-pulled-busybox-e3'), []);
    const r = await cli(['push', busybox.physical, `docker://127.0.0.1:${port}/demo/busybox:v1`, '--tls-verify=false']);
    assert.is(r.rc, 1);
    assert.match(r.err, /cannot reach the registry '127\.0\.0\.1:\d+'/);
    // a plain-HTTP registry with TLS verification on: says which flag/argument to use
    const tls = await cli(['push', busybox.physical, `docker://${reg.host}/demo/busybox:v1`]);
    assert.is(tls.rc, 1);
    assert.match(tls.err, /cannot reach the registry[\s\S]*--tls-verify=false/);
    await buildFails(s.root, pullExpr({ host: reg.host, digest: pushed, hash: wrong, tag: 'e4' }).replace('tlsVerify = false;', ''), 'E_PULL', /server gave HTTP response to HTTPS client[\s\S]*set tlsVerify = false/);
    assert.equal(storeEntries(s.root, 'docker-image-pulled-busybox-e4'), []);
  } finally {
    s.cleanup();
  }
});

test('a registry needing credentials: push without them fails, with --creds works; pullImage needs an auth file', async () => {
  if (!ok) return;
  const auth = await startRegistry({ auth: 'htpasswd' });
  const s = tempStore('imgeval-registry-auth-');
  const saved = process.env.REGISTRY_AUTH_FILE;
  try {
    process.env.REGISTRY_AUTH_FILE = join(scratch, 'no-such-auth.json');
    const no = await cli(['push', busybox.physical, `docker://${auth.host}/private/busybox:v1`, '--tls-verify=false']);
    assert.is(no.rc, 1);
    assert.match(no.err, /needs credentials for 'private\/busybox'/);
    const bad = await cli(['push', busybox.physical, `docker://${auth.host}/private/busybox:v1`, '--tls-verify=false', '--creds', `${HTPASSWD_USER}:wrong`]);
    assert.is(bad.rc, 1);
    assert.match(bad.err, /refused access/);
    const yes = await cli(['push', busybox.physical, `docker://${auth.host}/private/busybox:v1`, '--tls-verify=false', '--creds', `${HTPASSWD_USER}:${HTPASSWD_PASSWORD}`]);
    assert.is(yes.rc, 0, yes.err);
    const digest = yes.out.trim();
    const wrong = 'sha256-' + Buffer.alloc(32, 7).toString('base64');
    await buildFails(s.root, pullExpr({ host: auth.host, repo: 'private/busybox', digest, hash: wrong, tag: 'a1' }), 'E_PULL', /needs credentials[\s\S]*skopeo login/);
    assert.equal(storeEntries(s.root, 'docker-image-pulled-busybox-a1'), []);
    // skopeo's own auth file discovery: REGISTRY_AUTH_FILE (as `skopeo login` writes it)
    const file = join(scratch, 'auth.json');
    writeFileSync(file, JSON.stringify({ auths: { [auth.host]: { auth: Buffer.from(`${HTPASSWD_USER}:${HTPASSWD_PASSWORD}`).toString('base64') } } }));
    process.env.REGISTRY_AUTH_FILE = file;
    const viaFile = await cli(['push', busybox.physical, `docker://${auth.host}/private/busybox:v2`, '--tls-verify=false']);
    assert.is(viaFile.rc, 0, viaFile.err);
    const t = await buildFails(s.root, pullExpr({ host: auth.host, repo: 'private/busybox', digest, hash: wrong, tag: 'a2' }), 'E_HASH_MISMATCH', /got:/);
    assert.ok(t.includes('hash mismatch'), 'pulled with the auth file, only the hash is wrong');
  } finally {
    if (saved === undefined) delete process.env.REGISTRY_AUTH_FILE;
    else process.env.REGISTRY_AUTH_FILE = saved;
    await auth.stop();
    s.cleanup();
  }
});

test('a token-auth registry (Bearer): push gets a pull,push token with --creds; anonymous push is refused', async () => {
  if (!ok || !needTool('token auth', 'openssl')) return;
  const tok = await startRegistry({ auth: 'token' });
  const saved = process.env.REGISTRY_AUTH_FILE;
  try {
    process.env.REGISTRY_AUTH_FILE = join(scratch, 'no-such-auth.json');
    const no = await cli(['push', busybox.physical, `docker://${tok.host}/tokdemo/busybox:v1`, '--tls-verify=false']);
    assert.is(no.rc, 1);
    assert.match(no.err, /needs credentials for 'tokdemo\/busybox'/);
    const yes = await cli(['push', busybox.physical, `docker://${tok.host}/tokdemo/busybox:v1`, '--tls-verify=false', '--creds', `${HTPASSWD_USER}:${HTPASSWD_PASSWORD}`]);
    assert.is(yes.rc, 0, yes.err);
    assert.is(yes.out.trim(), pushed, 'same manifest digest as on the open registry');
    assert.ok(tok.tokenRequests!.some((q) => q.includes('scope=repository%3Atokdemo%2Fbusybox%3Apull%2Cpush') && q.includes('account=alice')), tok.tokenRequests!.join('\n'));
    // skopeo pulls it back with the same credentials
    // (async: the token server runs in this process)
    const { stdout: raw } = await execFileAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', `${HTPASSWD_USER}:${HTPASSWD_PASSWORD}`, `docker://${tok.host}/tokdemo/busybox@${pushed}`], { encoding: 'buffer', timeout: 60000 });
    assert.is(`sha256:${createHash('sha256').update(raw).digest('hex')}`, pushed);
  } finally {
    if (saved === undefined) delete process.env.REGISTRY_AUTH_FILE;
    else process.env.REGISTRY_AUTH_FILE = saved;
    await tok.stop();
  }
});

test('pushing an image whose one layer changed uploads that layer and the config only', async () => {
  if (!ok) return;
  const on = (v: string) => `buildImage { name = "versioned"; tag = "v${v}"; fromImage = base; copyToRoot = writeTextDir "etc/version" "${v}\\n"; }`;
  const built = await buildImg(store.root, { expr: `let base = import ${join(ROOT, 'examples', 'busybox.img')}; in { a = ${on('1')}; b = ${on('2')}; }` });
  const a = await cli(['push', built.get('a')!.physical, `docker://${reg.host}/demo/versioned:v1`, '--tls-verify=false']);
  assert.is(a.rc, 0, a.err);
  const b = await cli(['push', built.get('b')!.physical, `docker://${reg.host}/demo/versioned:v2`, '--tls-verify=false']);
  assert.is(b.rc, 0, b.err);
  assert.match(b.err, /2 blob\(s\) uploaded \([^)]*\), 1 skipped/);
  const uploads = b.err.split('\n').filter((l) => l.startsWith('uploading'));
  assert.is(uploads.length, 2, b.err);
});

const OWNER = { uid: 0, gid: 0, uname: '', gname: '' };

/** A docker-archive whose manifest and config are fine, with one extra `member`. */
async function hostileArchive(path: string, member: TarEntry): Promise<void> {
  const cfg = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['x/y:z'], Layers: [] }]));
  const fd = openSync(path, 'w');
  try {
    const w = new TarWriter(fdSink(fd));
    await w.add({ type: 'file', name: 'config.json', mode: 0o644, mtime: 1, owner: OWNER, size: cfg.length, source: { data: cfg } });
    await w.add(member);
    await w.add({ type: 'file', name: 'manifest.json', mode: 0o644, mtime: 1, owner: OWNER, size: manifest.length, source: { data: manifest } });
    await w.finish();
  } finally {
    closeSync(fd);
  }
}

test('a pulled archive with hostile members (.. names, links out of the root) is refused', async () => {
  const base = { mode: 0o644, mtime: 1, owner: OWNER };
  const cases: [string, TarEntry, RegExp][] = [
    ['dotdot', { ...base, type: 'file', name: '../evil', size: 1, source: { data: Buffer.from('x') } }, /climbs out with '\.\.'/],
    ['symlink', { ...base, type: 'symlink', name: 'layer.tar', target: '../../etc/passwd' }, /pointing outside it/],
    ['absolute', { ...base, type: 'symlink', name: 'abs.tar', target: '/etc/shadow' }, /absolute path/],
  ];
  for (const [name, member, re] of cases) {
    const p = join(scratch, `${name}.tar`);
    await hostileArchive(p, member);
    try {
      await normaliseDockerArchive(p, join(scratch, `${name}-out.tar`), 'x/y:z', join(scratch, `${name}-work`));
      assert.unreachable(`${name} accepted`);
    } catch (e) {
      assert.ok(isImgError(e), String(e));
      assert.match((e as Error).message, re);
    }
    assert.equal(readdirSync(scratch).filter((n) => n === `${name}-out.tar`), [], 'no output written');
  }
});

test.run();
