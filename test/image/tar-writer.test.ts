// The tar writer: GNU tar reads what it writes (PAX long names and link targets included), the
// planned size equals the written size, the digest is the sha256 of the bytes, and gzip/zstd
// output decompresses back to the same tar. Our reader indexes the same members.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TarWriter, tarSize, withFileSink, type TarEntry } from '../../src/image/tar-writer.js';
import { indexTar, lookupMember, readMember } from '../../src/image/tar-reader.js';
import { needTool } from '../helpers/tools.js';
import { ImgError } from '../../src/base/error.js';
import { sha256File, tempDir } from './helpers.js';

const test = suite('image/tar-writer');
const owner = { uid: 0, gid: 0, uname: '', gname: '' };
const long = 'nix/store/' + 'x'.repeat(32) + '-' + 'averyveryverylongpackagename'.repeat(4) + '-1.0';

function entries(dataFile: string): TarEntry[] {
  return [
    { type: 'directory', name: 'nix/', mode: 0o755, mtime: 1, owner },
    { type: 'directory', name: `${long}/`, mode: 0o555, mtime: 1, owner },
    { type: 'file', name: `${long}/data`, mode: 0o444, mtime: 1, owner: { uid: 1000, gid: 100, uname: 'user', gname: 'users' }, size: readFileSync(dataFile).length, source: { path: dataFile } },
    { type: 'file', name: 'small', mode: 0o644, mtime: 5, owner, size: 5, source: { data: Buffer.from('hello') } },
    { type: 'symlink', name: 'link', mode: 0o777, mtime: 1, owner, target: `${long}/data` },
    { type: 'file', name: 'bigid', mode: 0o600, mtime: 1, owner: { uid: 3000000, gid: 3000001, uname: '', gname: '' }, size: 0, source: { data: Buffer.alloc(0) } },
  ];
}

async function write(es: TarEntry[], out: string, c: 'none' | 'gzip' | 'zstd' = 'none', buffer?: number) {
  return withFileSink(out, c, async (sink) => {
    const w = new TarWriter(sink, buffer);
    for (const e of es) await w.add(e);
    return w.finish();
  });
}

test('GNU tar reads it; size planned = written; digest = sha256 of the file', async () => {
  const t = tempDir();
  try {
    const data = join(t.dir, 'data.bin');
    writeFileSync(data, Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    const es = entries(data);
    const out = join(t.dir, 'a.tar');
    // a small buffer forces many flushes, including inside file contents
    const { result, digest, size } = await write(es, out, 'none', 20000);
    assert.is(result.size, tarSize(es));
    assert.is(size, result.size);
    assert.is(result.size % 10240, 0);
    assert.is(digest, undefined); // uncompressed: the writer's own hash is the file's digest
    assert.is(result.diffID, `sha256:${sha256File(out)}`);
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', out], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listing.map((l) => l.split(/\s+/).slice(5).join(' ')), [
      'nix/', `${long}/`, `${long}/data`, 'small', `link -> ${long}/data`, 'bigid',
    ]);
    assert.match(listing[2]!, /^-r--r--r-- 1000\/100 +3145745 /);
    assert.match(listing[5]!, /^-rw------- 3000000\/3000001 /);
    assert.is(execFileSync('tar', ['-xOf', out, `${long}/data`], { maxBuffer: 1 << 26 }).length, 3 * 1024 * 1024 + 17);
    // the same with a big buffer: identical bytes
    const out2 = join(t.dir, 'b.tar');
    const r2 = await write(es, out2);
    assert.is(r2.result.diffID, result.diffID);
    // our reader
    const idx = indexTar(out);
    assert.equal(idx.order, ['nix', long, `${long}/data`, 'small', 'link', 'bigid']);
    assert.is(readMember(idx, lookupMember(idx, 'small')!).toString(), 'hello');
    assert.is(idx.members.get('link')!.target, `${long}/data`);
    assert.is(lookupMember(idx, 'link')!.name, `${long}/data`);
  } finally {
    t.cleanup();
  }
});

test('gzip and zstd output decompress to the same tar; compressed digest is of the file', async () => {
  const t = tempDir();
  try {
    const data = join(t.dir, 'data.bin');
    writeFileSync(data, Buffer.alloc(100000, 'a'));
    const es = entries(data);
    const plain = await write(es, join(t.dir, 'p.tar'));
    const gz = await write(es, join(t.dir, 'p.tar.gz'), 'gzip');
    assert.is(gz.result.diffID, plain.result.diffID);
    assert.is(gz.digest, `sha256:${sha256File(join(t.dir, 'p.tar.gz'))}`);
    assert.ok(gunzipSync(readFileSync(join(t.dir, 'p.tar.gz'))).equals(readFileSync(join(t.dir, 'p.tar'))));
    const gz2 = await write(es, join(t.dir, 'q.tar.gz'), 'gzip');
    assert.is(gz2.digest, gz.digest, 'gzip output is deterministic');
    if (!needTool('zstd layer compression', 'zstd')) return;
    const zs = await write(es, join(t.dir, 'p.tar.zst'), 'zstd');
    assert.is(zs.result.diffID, plain.result.diffID);
    assert.ok(execFileSync('zstd', ['-d', '-c', join(t.dir, 'p.tar.zst')]).equals(readFileSync(join(t.dir, 'p.tar'))));
    assert.is(zs.digest, `sha256:${sha256File(join(t.dir, 'p.tar.zst'))}`);
  } finally {
    t.cleanup();
  }
});

test("zstd without the 'zstd' program: a clear ImgError", async () => {
  const t = tempDir();
  const path = process.env.PATH;
  try {
    process.env.PATH = '/nonexistent';
    let err: unknown;
    await write([{ type: 'file', name: 'a', mode: 0o644, mtime: 1, owner, size: 1, source: { data: Buffer.from('a') } }], join(t.dir, 'a.tar.zst'), 'zstd').catch((e) => (err = e));
    assert.ok(err instanceof ImgError && err.message === "compressor 'zstd' needs the 'zstd' program, which is not installed", String(err));
  } finally {
    process.env.PATH = path;
    t.cleanup();
  }
});

test.run();
