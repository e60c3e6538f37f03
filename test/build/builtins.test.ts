// Built-in builders run through the scheduler: write-text (file, destination, executable),
// symlink-join (lndir-style merge, pathsToLink, extraPrefix, collisions named, identical files
// and ignoreCollisions accepted), link-farm (nested names, clashes), fetchurl (a local HTTP
// server on 127.0.0.1 and file:// URLs, flat and executable, unpack of a NAR, hash mismatch:
// expected and actual hash in the user's form and SRI, nothing registered).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../../src/base/error.js';
import { printHash, sha256 } from '../../src/base/hash.js';
import { narHashOfTree, narOfTree } from '../../src/derivation/nar.js';
import { realise } from '../../src/build/scheduler.js';
import { DEFAULT_BUILTINS } from '../../src/build/builtins/index.js';
import type { LocalStore } from '../../src/store/local-store.js';
import { addDrv, cleanup, openStore, tempDir, type DrvSpec } from './helpers.js';

const test = suite('build/builtins');
let server: Server;
let base = '';
let hits = 0;
const FILES: Record<string, Buffer> = {};
test.before(async () => {
  server = createServer((req, res) => {
    hits++;
    const body = FILES[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
});
test.after(async () => {
  await new Promise((r) => server.close(r));
  cleanup();
});

async function build(store: LocalStore, spec: DrvSpec): Promise<string> {
  const d = addDrv(store, spec);
  const [r] = await realise(store, [{ drvPath: d.drvPath }], { jobs: 2 });
  return r!.outputs.get('out')!;
}

async function buildError(store: LocalStore, spec: DrvSpec): Promise<{ e: ImgError; out: string }> {
  const d = addDrv(store, spec);
  try {
    await realise(store, [{ drvPath: d.drvPath }]);
  } catch (e) {
    if (e instanceof ImgError) return { e, out: d.out.get('out')! };
    throw e;
  }
  throw new Error('expected the build to fail');
}

test('the registry lists the four builders with docs', () => {
  const names = DEFAULT_BUILTINS.list().map((b) => b.name);
  assert.equal(names, ['fetchurl', 'link-farm', 'symlink-join', 'write-text']);
  for (const b of DEFAULT_BUILTINS.list()) assert.ok(b.doc.startsWith(`builtin:${b.name}:`), b.name);
});

test('write-text: plain file, executable, destination', async () => {
  const store = openStore(tempDir('wt'));
  const plain = await build(store, { name: 'plain', builder: 'builtin:write-text', env: { text: 'hello\n', executable: '', destination: '' } });
  const st = lstatSync(store.toPhysical(plain));
  assert.ok(st.isFile());
  assert.is(st.mode & 0o777, 0o444);
  assert.is(st.mtimeMs, 1000);
  assert.is(readFileSync(store.toPhysical(plain), 'latin1'), 'hello\n');
  // The NAR of a file with "hello\n" (formats-and-oracles 4.5).
  assert.is(store.queryPathInfo(plain)!.narHash, 'sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw');
  const bytes = '\u00e9\u00ff raw bytes';
  const bin = await build(store, { name: 'tool', builder: 'builtin:write-text', env: { text: bytes, executable: '1', destination: '/bin/tool' } });
  const f = join(store.toPhysical(bin), 'bin', 'tool');
  assert.is(lstatSync(f).mode & 0o777, 0o555);
  assert.is(lstatSync(join(store.toPhysical(bin), 'bin')).mode & 0o777, 0o555);
  assert.equal(readFileSync(f), Buffer.from(bytes, 'latin1'));
  const { e } = await buildError(store, { name: 'bad-dest', builder: 'builtin:write-text', env: { text: 'x', destination: '/a/../b' } });
  assert.match(e.message, /builtin:write-text: destination '\/a\/\.\.\/b'/);
  store.close();
});

test('symlink-join: merges trees lndir-style, pathsToLink, extraPrefix, collisions', async () => {
  const store = openStore(tempDir('sj'));
  const a = addDrv(store, { name: 'a', builder: 'builtin:write-text', env: { text: 'A', executable: '1', destination: '/bin/a' } });
  const b = addDrv(store, { name: 'b', builder: 'builtin:write-text', env: { text: 'B', destination: '/bin/b' } });
  const c = addDrv(store, { name: 'c', builder: 'builtin:write-text', env: { text: 'doc', destination: '/share/doc/c' } });
  const same = addDrv(store, { name: 'same', builder: 'builtin:write-text', env: { text: 'A', executable: '1', destination: '/bin/a' } });
  const clash = addDrv(store, { name: 'clash', builder: 'builtin:write-text', env: { text: 'not A', destination: '/bin/a' } });
  const pa = a.out.get('out')!;
  const pb = b.out.get('out')!;
  const pc = c.out.get('out')!;
  const inputs = (...ds: { drvPath: string }[]) => ds.map((d) => [d.drvPath, ['out']] as [string, string[]]);
  const joined = await build(store, { name: 'joined', builder: 'builtin:symlink-join', env: { paths: `${pa} ${pb} ${pc} ${same.out.get('out')}` }, inputs: inputs(a, b, c, same) });
  const j = store.toPhysical(joined);
  assert.ok(lstatSync(join(j, 'bin')).isDirectory() && !lstatSync(join(j, 'bin')).isSymbolicLink());
  assert.is(readlinkSync(join(j, 'bin', 'a')), `${pa}/bin/a`);
  assert.is(readlinkSync(join(j, 'bin', 'b')), `${pb}/bin/b`);
  assert.is(readlinkSync(join(j, 'share', 'doc', 'c')), `${pc}/share/doc/c`);
  assert.equal(store.queryPathInfo(joined)!.references, [pa, pb, pc].sort());

  const onlyBin = await build(store, { name: 'only-bin', builder: 'builtin:symlink-join', env: { paths: `${pa} ${pc}`, pathsToLink: '/bin', extraPrefix: '/usr' }, inputs: inputs(a, c) });
  assert.equal(readdirSync(store.toPhysical(onlyBin)), ['usr']);
  assert.equal(readdirSync(join(store.toPhysical(onlyBin), 'usr')), ['bin']);
  assert.is(readlinkSync(join(store.toPhysical(onlyBin), 'usr', 'bin', 'a')), `${pa}/bin/a`);

  const { e, out } = await buildError(store, { name: 'collide', builder: 'builtin:symlink-join', env: { paths: `${pa} ${clash.out.get('out')}` }, inputs: inputs(a, clash) });
  assert.is(e.message, `builtin:symlink-join: collision between '${pa}/bin/a' and '${clash.out.get('out')}/bin/a'`);
  assert.not.ok(store.isValidPath(out));
  // Symlinks in a source are copied (lndir): a relative one keeps pointing next to itself.
  const withLinks = addDrv(store, { name: 'with-links', builder: 'builtin:link-farm', env: { entries: JSON.stringify([{ name: 'bin/alias', path: 'a' }]) } });
  const linked = await build(store, { name: 'linked', builder: 'builtin:symlink-join', env: { paths: `${pa} ${withLinks.out.get('out')}` }, inputs: inputs(a, withLinks) });
  assert.is(readlinkSync(join(store.toPhysical(linked), 'bin', 'alias')), 'a');
  assert.is(readlinkSync(join(store.toPhysical(linked), 'bin', 'a')), `${pa}/bin/a`);
  assert.equal(store.queryPathInfo(linked)!.references, [pa]);
  const ignored = await build(store, { name: 'ignored', builder: 'builtin:symlink-join', env: { paths: `${pa} ${clash.out.get('out')}`, ignoreCollisions: '1' }, inputs: inputs(a, clash) });
  assert.is(readlinkSync(join(store.toPhysical(ignored), 'bin', 'a')), `${pa}/bin/a`);
  store.close();
});

test('link-farm: nested names, parents created, clashes refused', async () => {
  const store = openStore(tempDir('lf'));
  const a = addDrv(store, { name: 'a', builder: 'builtin:write-text', env: { text: 'A' } });
  const pa = a.out.get('out')!;
  const entries = JSON.stringify([
    { name: 'top', path: pa },
    { name: 'etc/deep/a.conf', path: pa },
  ]);
  const farm = await build(store, { name: 'farm', builder: 'builtin:link-farm', env: { entries }, inputs: [[a.drvPath, ['out']]] });
  const f = store.toPhysical(farm);
  assert.is(readlinkSync(join(f, 'top')), pa);
  assert.is(readlinkSync(join(f, 'etc', 'deep', 'a.conf')), pa);
  assert.equal(store.queryPathInfo(farm)!.references, [pa]);
  const { e } = await buildError(store, {
    name: 'farm-bad',
    builder: 'builtin:link-farm',
    env: { entries: JSON.stringify([{ name: 'x', path: pa }, { name: 'x/y', path: pa }]) },
    inputs: [[a.drvPath, ['out']]],
  });
  assert.is(e.message, `builtin:link-farm: entry 'x/y' lies below the entry 'x'`);
  const { e: e2 } = await buildError(store, { name: 'farm-abs', builder: 'builtin:link-farm', env: { entries: JSON.stringify([{ name: '/etc', path: pa }]) } });
  assert.match(e2.message, /entry name '\/etc' must be a relative path/);
  store.close();
});

function fetchSpec(name: string, url: string, hash: string, extra: Record<string, string> = {}, mode = 'flat', algo = 'sha256'): DrvSpec {
  return { name, builder: 'builtin:fetchurl', env: { url, executable: '', unpack: '', ...extra }, outputHash: hash, outputHashAlgo: algo, outputHashMode: mode };
}

test('fetchurl: http and file URLs, flat and executable, ca registered', async () => {
  const d = tempDir('fu');
  const store = openStore(join(d, 'store'));
  const body = Buffer.from('payload from the local server\n');
  FILES['/payload.txt'] = body;
  const hex = sha256(body).toString('hex');
  const before = hits;
  const out = await build(store, fetchSpec('payload.txt', `${base}/payload.txt`, hex));
  assert.is(hits, before + 1);
  assert.equal(readFileSync(store.toPhysical(out)), body);
  const info = store.queryPathInfo(out)!;
  assert.is(info.ca, `fixed:sha256:${printHash('sha256', sha256(body), 'base32')}`);
  assert.equal(info.references, []);
  // Valid now: a second derivation with another URL but the same hash is not downloaded again.
  const again = await build(store, fetchSpec('payload.txt', `${base}/elsewhere`, hex));
  assert.is(again, out);
  assert.is(hits, before + 1);

  const local = join(d, 'tool.sh');
  writeFileSync(local, '#!/bin/sh\necho tool\n');
  const nar = narOfTree({ type: 'regular', contents: readFileSync(local), executable: true });
  const sri = printHash('sha256', sha256(nar), 'sri');
  const exe = await build(store, fetchSpec('tool.sh', `file://${local}`, sri, { executable: '1' }, 'recursive', ''));
  assert.is(lstatSync(store.toPhysical(exe)).mode & 0o777, 0o555);
  assert.is(store.queryPathInfo(exe)!.ca, `fixed:r:sha256:${printHash('sha256', sha256(nar), 'base32')}`);
  store.close();
});

test('fetchurl: unpack restores a NAR', async () => {
  const store = openStore(tempDir('fu-nar'));
  const tree = { type: 'directory' as const, entries: { bin: { type: 'directory' as const, entries: { hi: { type: 'regular' as const, contents: Buffer.from('#!/bin/sh\n'), executable: true } } }, link: { type: 'symlink' as const, target: 'bin/hi' } } };
  FILES['/tree.nar'] = narOfTree(tree);
  const h = narHashOfTree(tree).narHash;
  const out = await build(store, fetchSpec('tree', `${base}/tree.nar`, printHash('sha256', h, 'base32', true), { unpack: '1' }, 'recursive', ''));
  const p = store.toPhysical(out);
  assert.is(readlinkSync(join(p, 'link')), 'bin/hi');
  assert.is(lstatSync(join(p, 'bin', 'hi')).mode & 0o777, 0o555);
  store.close();
});

test('fetchurl: a hash mismatch shows both hashes (user form and SRI) and registers nothing', async () => {
  const store = openStore(tempDir('fu-bad'));
  const body = Buffer.from('the real content\n');
  FILES['/real.txt'] = body;
  const wrong = sha256(Buffer.from('something else')).toString('hex');
  const { e, out } = await buildError(store, fetchSpec('real.txt', `${base}/real.txt`, wrong));
  assert.is(e.code, 'E_HASH_MISMATCH');
  assert.match(e.message, /^hash mismatch in fixed-output derivation '\/nix\/store\/[a-z0-9]{32}-real\.txt\.drv'$/);
  const got = sha256(body);
  const wrongBytes = Buffer.from(wrong, 'hex');
  assert.is(e.notes[0]!.message, `specified: ${wrong} (${printHash('sha256', wrongBytes, 'sri')})`);
  assert.is(e.notes[1]!.message, `got:       ${got.toString('hex')} (${printHash('sha256', got, 'sri')})`);
  assert.not.ok(store.isValidPath(out));
  assert.not.ok(readdirSync(store.realStoreDir).some((n) => n.endsWith('-real.txt')), 'no output left in the store');
  // An SRI hash is shown as SRI only.
  const sriWrong = printHash('sha256', wrongBytes, 'sri');
  const { e: e2 } = await buildError(store, fetchSpec('real2.txt', `${base}/real.txt`, sriWrong, {}, 'flat', ''));
  assert.is(e2.notes[0]!.message, `specified: ${sriWrong}`);
  assert.is(e2.notes[1]!.message, `got:       ${printHash('sha256', got, 'sri')}`);
  // A download error names the URL.
  const { e: e3 } = await buildError(store, fetchSpec('missing', `${base}/missing`, wrong));
  assert.is(e3.message, `builtin:fetchurl: unable to download '${base}/missing': HTTP error 404`);
  store.close();
});

test.run();
