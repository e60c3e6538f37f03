// Builder-supplied NAR hashes: buildLayeredImage's uncompressed archive is hashed (NAR) and
// scanned for references while it is written, and the scheduler registers what the builder
// computed without reading the file again. Held here against a fresh computation: for a few
// images (plain, sharing a layer, on a layered base image, with store paths that refer to each
// other), the registered narHash, narSize and references equal the NAR hash of the file on disk
// and a reference scan over the same candidates. NarFileHasher itself is checked against
// derivation/nar.ts for files of many lengths; a store layer modified after its conf was made
// is refused (the archive builder checks layers by the conf's CRC-32, the stream by diffID); and
// `--check` re-hashes whatever a builder says (a builder that hands over a wrong hash is caught).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BuiltinRegistry, type BuiltinBuilder } from '../../src/build/builder-registry.js';
import { NarHashThread } from '../../src/build/nar-hash-thread.js';
import { NarFileHasher } from '../../src/build/output.js';
import { narHash, narHashOfFile, writeNar } from '../../src/derivation/nar.js';
import { printHash } from '../../src/base/hash.js';
import { nodeFsReader } from '../../src/store/fs-reader.js';
import { ReferenceScanner } from '../../src/store/references.js';
import { ROOT } from '../helpers/tools.js';
import { BUILTINS, buildImg, openSession, streamToFile, tempStore } from './helpers.js';

const test = suite('builder-supplied NAR hashes');
const store = tempStore('imgeval-archive-hash-');
const searchPath = [{ prefix: 'imglib', path: join(ROOT, 'examples', 'lib') }];

test.after(() => store.cleanup());

test('NarFileHasher gives the NAR hash and size of derivation/nar.ts, fed in any chunks', () => {
  for (const size of [0, 1, 7, 8, 9, 63, 64, 65, 4096, 100_003]) {
    const data = randomBytes(size);
    for (const executable of [false, true]) {
      const want = narHashOfFile(data, executable);
      for (const chunk of [1, 5, 4096, 1 << 20]) {
        const h = new NarFileHasher(size, [], executable);
        for (let i = 0; i < size; i += chunk) h.update(data.subarray(i, i + chunk));
        const got = h.finish();
        assert.is(Buffer.from(got.narHash).toString('hex'), want.narHash.toString('hex'), `size ${size}, executable ${executable}, chunks of ${chunk}`);
        assert.is(got.narSize, want.narSize);
      }
    }
  }
});

test('NarFileHasher scans the NAR bytes for references, across chunk boundaries', () => {
  const a = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a';
  const b = '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-b';
  const c = '/nix/store/00000000000000000000000000000000-c';
  const data = Buffer.from(`x${a}/bin y ${b.slice(0, 30)}`.padEnd(200, '.') + b, 'latin1');
  const h = new NarFileHasher(data.length, [a, b, c]);
  for (let i = 0; i < data.length; i += 13) h.update(data.subarray(i, i + 13));
  assert.equal(h.finish().references, [a, b].sort());
});

test('NarHashThread (the hasher on a worker thread) gives what NarFileHasher gives', async () => {
  const a = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a';
  const data = Buffer.concat([randomBytes(9 << 20), Buffer.from(a), randomBytes(3001)]);
  for (const [chunk, overlap] of [[1 << 20, false], [10 << 20, false], [3 << 20, true], [777, true]] as const) {
    const t = new NarHashThread(data.length, [a]);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < data.length; i += chunk) {
      const p = t.update(data.subarray(i, i + chunk));
      if (overlap) pending.push(p);
      else await p;
    }
    await Promise.all(pending);
    const got = await t.finish();
    const h = new NarFileHasher(data.length, [a]);
    h.update(data);
    const want = h.finish();
    assert.is(Buffer.from(got.narHash).toString('hex'), Buffer.from(want.narHash).toString('hex'), `chunks of ${chunk}${overlap ? ', overlapping calls' : ''}`);
    assert.equal({ ...got, narHash: 0 }, { ...want, narHash: 0 });
  }
  const short = new NarHashThread(10, []);
  await short.update(Buffer.alloc(4));
  await short.finish().then(
    () => assert.unreachable('a short stream was accepted'),
    (e: Error) => assert.match(e.message, /got 4 bytes, not the 10 announced/),
  );
});

test('NarFileHasher refuses a wrong length', () => {
  const h = new NarFileHasher(10, []);
  h.update(Buffer.alloc(4));
  assert.throws(() => h.finish(), /got 4 bytes, not the 10 announced/);
  const g = new NarFileHasher(2, []);
  assert.throws(() => g.update(Buffer.alloc(3)), /more than the 2 bytes/);
});

const EXPR = `let h = import <imglib/image-helpers.img>;
  data = writeText "data" "some data\\n";
  # store paths that refer to each other, so the archive's bytes name them
  dep = writeTextDir "share/dep.txt" "uses \${data}\\n";
  top = writeTextDir "share/top.txt" "uses \${dep} and \${h.busybox}\\n";
in rec {
  plain = buildLayeredImage { name = "hash-plain"; tag = "1"; contents = [ h.busybox ]; config.Cmd = [ "/bin/sh" ]; };
  refs = buildLayeredImage { name = "hash-refs"; tag = "1"; contents = [ top ]; maxLayers = 3; };
  onBase = buildLayeredImage { name = "hash-on-base"; tag = "1"; fromImage = plain; contents = [ h.busybox data ]; };
  bulk = buildLayeredImage { name = "hash-bulk"; tag = "1"; contents = [ h.busybox top data ]; maxLayers = 2;
    extraCommands = "mkdir -p etc && echo \${top} > etc/top"; };
}`;

test('uncompressed buildLayeredImage archives: the registered narHash, narSize and references equal a fresh hash and scan of the file', async () => {
  const logs: string[] = [];
  const built = await buildImg(store.root, { expr: EXPR, searchPath }, { onEvent: (e) => { if (e.type === 'log') logs.push(`${e.drvPath} ${e.line}`); } });
  for (const b of built.values()) {
    assert.ok(logs.some((l) => l.startsWith(b.drvPath) && l.includes('computed by the builder while writing it')), `${b.drvPath} took the builder's hash`);
  }
  assert.equal([...built.keys()].sort(), ['bulk', 'onBase', 'plain', 'refs']);
  const session = openSession(store.root);
  try {
    const st = session.store();
    for (const [key, b] of built) {
      const info = st.queryPathInfo(b.outPath)!;
      assert.ok(info, key);
      const fresh = narHash(nodeFsReader, b.physical);
      assert.is(info.narHash, printHash('sha256', fresh.narHash, 'base32', true), `${key}: narHash`);
      assert.is(info.narSize, fresh.narSize, `${key}: narSize`);
      // the candidates the scheduler scans for: the input closure (the conf's) and the output
      const scanner = new ReferenceScanner([...st.computeFSClosure([b.conf!]), b.outPath]);
      writeNar(nodeFsReader, b.physical, (c) => scanner.update(c));
      assert.equal(info.references, scanner.result(), `${key}: references`);
      assert.ok(info.references.length > 0, `${key}: the archive names store paths`);
    }
    // every store path in an image's layers is named in its archive (member names), so found
    for (const key of ['refs', 'bulk']) {
      const b = built.get(key)!;
      const inImage = st.computeFSClosure(st.queryReferences(b.conf!).filter((p) => p !== b.conf));
      for (const p of inImage) assert.ok(st.queryReferences(b.outPath).includes(p), `${key}: '${p}' is in the archive's references`);
    }
  } finally {
    session.close();
  }
  // and check mode (which hashes every output itself) finds them identical
  await buildImg(store.root, { expr: EXPR, searchPath }, { check: true });
});

test('a store layer modified after its conf was made is refused: by its CRC-32 in the archive builder, by its diffID when streamed', async () => {
  const args = `{ name = "tampered"; tag = "1"; contents = [ (writeTextDir "share/t.txt" "original text\\n") ]; }`;
  const stream = (await buildImg(store.root, { expr: `streamLayeredImage ${args}` })).get('')!;
  const session = openSession(store.root);
  let file = '';
  try {
    const st = session.store();
    const conf = JSON.parse(readFileSync(st.toPhysical(stream.conf!), 'latin1')) as { storeLayers: { paths: string[]; crc32: number }[] };
    assert.ok(conf.storeLayers.every((l) => Number.isInteger(l.crc32)), 'every store layer has a CRC-32 in the conf');
    const p = conf.storeLayers.flatMap((l) => l.paths).find((x) => x.endsWith('-t.txt'))!;
    file = join(st.toPhysical(p), 'share', 't.txt');
  } finally {
    session.close();
  }
  // same size, other bytes (the conf derivation is the same for both functions, so it is not rebuilt)
  chmodSync(dirname(file), 0o755);
  chmodSync(file, 0o644);
  writeFileSync(file, 'tampered text\n');
  try {
    await buildImg(store.root, { expr: `buildLayeredImage ${args}` }).then(
      () => assert.unreachable('the archive was built from a modified store path'),
      (e: Error) => assert.match(e.message, /the store layer of 1 paths has CRC-32 \d+, but the conf says \d+ \(was a store path modified\?\)/),
    );
    await streamToFile(store.root, stream.conf!, join(store.root, 'streamed.tar')).then(
      () => assert.unreachable('the stream was written from a modified store path'),
      (e: Error) => assert.match(e.message, /has diffID sha256:[0-9a-f]{64}, but the conf says sha256:/),
    );
  } finally {
    writeFileSync(file, 'original text\n');
  }
});

test('--check hashes the output itself: a builder that hands over a wrong hash is caught', async () => {
  let lie = false;
  const liar: BuiltinBuilder = {
    name: 'hash-liar',
    doc: 'test: writes $out as a file and hands over its NAR hash (a wrong one when told to)',
    run(ctx) {
      const data = Buffer.from('contents\n');
      writeFileSync(ctx.outputTemps.get('out')!, data);
      const h = new NarFileHasher(data.length, ctx.referenceCandidates);
      h.update(lie ? Buffer.from('CONTENTS\n') : data);
      ctx.outputHashed('out', h.finish());
    },
  };
  const builtins = new BuiltinRegistry(BUILTINS.list()).with([liar]);
  const expr = `derivation { name = "liar"; system = "x86_64-linux"; builder = "builtin:hash-liar"; }`;
  const b = (await buildImg(store.root, { expr }, { builtins })).get('')!;
  const session = openSession(store.root);
  try {
    assert.is(session.store().queryPathInfo(b.outPath)!.narHash, printHash('sha256', narHash(nodeFsReader, b.physical).narHash, 'base32', true));
  } finally {
    session.close();
  }
  await buildImg(store.root, { expr }, { builtins, check: true });
  lie = true;
  try {
    await buildImg(store.root, { expr }, { builtins, check: true });
  } catch (e) {
    assert.unreachable(`check mode took the builder's hash: ${(e as Error).message}`);
  }
  // a fresh build that lies is registered with the lie, but check mode then reports the difference
  const expr2 = `derivation { name = "liar2"; system = "x86_64-linux"; builder = "builtin:hash-liar"; }`;
  await buildImg(store.root, { expr: expr2 }, { builtins });
  lie = false;
  try {
    await buildImg(store.root, { expr: expr2 }, { builtins, check: true });
    assert.unreachable('check mode did not notice the wrong registered hash');
  } catch (e) {
    assert.match((e as Error).message, /may not be deterministic/);
  }
});

test.run();
