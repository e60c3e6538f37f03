// Store paths against the real Nix 2.8: parse/validation messages (`nix-store --check-validity`),
// source and fixed-output paths of generated files and trees (`nix-store --add`, `--add-fixed
// [--recursive] <algo>`), and `nix-hash --type <algo> [--flat]` of the same inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  HASH_PART_LEN,
  hashPlaceholder,
  isStorePath,
  makeFixedOutputPath,
  makeOutputPath,
  makeSourcePath,
  makeStorePath,
  makeTextPath,
  parseStorePath,
  toStorePath,
} from '../../src/derivation/store-path.js';
import { narHash, writeNar } from '../../src/derivation/nar.js';
import { nodeFsReader } from '../../src/store/fs-reader.js';
import { sha256, toHex, toNixBase32, type HashAlgo } from '../../src/base/hash.js';
import { isImgError } from '../../src/base/error.js';
import { needTool } from '../helpers/tools.js';
import { freshStore, nixEnv, runNix } from './nix-env.js';

const test = suite('derivation/store-path');
const tmp = mkdtempSync(join(tmpdir(), 'imgeval-sp-'));

test('reference examples (formats-and-oracles 4.4, 4.6)', () => {
  assert.is(makeTextPath('hello.txt', 'hello\n'), '/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt');
  assert.is(
    makeTextPath('note', 'see /nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt and /nix/store/ha7zi9ni8fm7kmdy9l6ifyr6i3mjk5yp-demo', [
      '/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt',
      '/nix/store/ha7zi9ni8fm7kmdy9l6ifyr6i3mjk5yp-demo',
    ]),
    '/nix/store/s2mh8wkxncsr58bzq8x2wac7s5nw490b-note',
  );
  const hello = Buffer.from('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03', 'hex');
  assert.is(makeFixedOutputPath('flat', 'sha256', hello, 'hello.txt'), '/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt');
  const nar = Buffer.from('1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13', 'hex');
  assert.is(makeSourcePath('hello.txt', nar), '/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt');
  const modulo = Buffer.from('00b851513f5c58e264a751c12c2cda4ea5422f951c14c49330bab04fdd208106', 'hex');
  assert.is(makeOutputPath('out', modulo, 'dep'), '/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep');
  assert.is(hashPlaceholder('out'), '/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9');
  assert.is(makeStorePath('text', sha256('hello\n'), 'hello.txt').length, '/nix/store/'.length + HASH_PART_LEN + 1 + 9);
});

const parseCases = [
  '/nix/store/abc',
  '/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x',
  '/nix/store/00000000000000000000000000000000-a%b',
  '/nix/store/00000000000000000000000000000000-a b',
  '/nix/store/00000000000000000000000000000000-',
  '/nix/store/00000000000000000000000000000000xfoo',
  '/nix/store/../store/00000000000000000000000000000000-x',
  '/nix/store//00000000000000000000000000000000-x/',
  '/nix/store/00000000000000000000000000000000-x/sub/dir',
  '/nix/store/ABCDEFGHIJKLMNOPQRSTUVWXYZ012345-x',
  '/nix/store/00000000000000000000000000000000-.x',
  '/nix/store/00000000000000000000000000000000-a+b-c.d_e?f=g',
  `/nix/store/00000000000000000000000000000000-${'x'.repeat(211)}`,
  `/nix/store/00000000000000000000000000000000-${'x'.repeat(212)}`,
  '/nix/store/00000000000000000000000000000000-ü',
  '/nix/store/0000000000000000000000000000000!-x',
];

test('parsing and validation agree with nix-store --check-validity', () => {
  if (!needTool('store path oracle', 'nix-store')) return;
  for (const u of parseCases) {
    // Paths are byte strings: UTF-8 bytes, one JS char each (as Nix's messages quote bytes).
    const p = Buffer.from(u, 'utf8').toString('latin1');
    const r = spawnSync('nix-store', ['--check-validity', '--print-invalid', u], { env: nixEnv(), encoding: 'latin1' });
    const nixErr = r.stderr.split('\n').find((l) => l.startsWith('error: '))?.slice(7);
    let mine: string | undefined;
    let path: string | undefined;
    try {
      const { storePath } = toStorePath(p.replace(/\/\/+/g, '/').replace(/\/$/, '').replace('/nix/store/../store', '/nix/store'));
      path = parseStorePath(storePath).baseName;
    } catch (e) {
      if (!isImgError(e)) throw e;
      mine = e.message;
    }
    assert.is(mine, nixErr, `error for ${p}`);
    if (!nixErr) assert.is(`/nix/store/${path}`, r.stdout.trim());
  }
  assert.ok(isStorePath('/nix/store/00000000000000000000000000000000-x'));
  assert.not.ok(isStorePath('/nix/store/00000000000000000000000000000000-x/y'));
  assert.is(parseStorePath('/nix/store/./00000000000000000000000000000000-x/').name, 'x');
});

/** Deterministic bytes. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function makeInputs(): string[] {
  const out: string[] = [];
  for (const [i, n] of [0, 1, 7, 8, 9, 1000, 200000].entries()) {
    const f = join(tmp, `file-${n}.bin`);
    writeFileSync(f, bytes(n, i + 3));
    if (i % 2) chmodSync(f, 0o755);
    out.push(f);
  }
  const d = join(tmp, 'tree');
  mkdirSync(join(d, 'sub/deeper'), { recursive: true });
  writeFileSync(join(d, 'a'), 'a\n');
  writeFileSync(join(d, 'sub/x.sh'), '#!/bin/sh\n');
  chmodSync(join(d, 'sub/x.sh'), 0o755);
  writeFileSync(join(d, 'sub/deeper/big'), bytes(70000, 9));
  symlinkSync('../a', join(d, 'sub/link'));
  mkdirSync(join(d, 'empty'));
  out.push(d);
  return out;
}

const ALGOS: HashAlgo[] = ['sha256', 'sha1', 'sha512', 'md5'];

function narDigest(path: string, algo: HashAlgo): Buffer {
  const h = createHash(algo);
  writeNar(nodeFsReader, path, (c) => h.update(c));
  return h.digest();
}

test('source and fixed-output paths agree with nix-store --add / --add-fixed; hashes with nix-hash', () => {
  if (!needTool('store path oracle', 'nix-store', 'nix-hash')) return;
  const store = freshStore();
  const lines = (cmd: string, args: string[], opts = {}) => runNix(cmd, args, opts).toString().trim().split('\n');
  try {
    const inputs = makeInputs();
    const files = inputs.filter((p) => !p.endsWith('tree'));
    const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
    const added = lines('nix-store', ['--add', ...inputs], { store });
    inputs.forEach((p, i) => assert.is(makeSourcePath(nameOf(p), narHash(nodeFsReader, p).narHash), added[i], `nix-store --add ${p}`));
    for (const algo of ALGOS) {
      const rec = lines('nix-store', ['--add-fixed', '--recursive', algo, ...inputs], { store });
      const hex = lines('nix-hash', ['--type', algo, ...inputs]);
      const b32 = lines('nix-hash', ['--type', algo, '--base32', ...inputs]);
      inputs.forEach((p, i) => {
        const h = narDigest(p, algo);
        assert.is(makeFixedOutputPath('recursive', algo, h, nameOf(p)), rec[i], `--add-fixed --recursive ${algo} ${p}`);
        assert.is(toHex(h), hex[i], `nix-hash ${algo} ${p}`);
        assert.is(toNixBase32(h), b32[i], `nix-hash --base32 ${algo} ${p}`);
      });
      const flat = lines('nix-store', ['--add-fixed', algo, ...files], { store });
      const flatHex = lines('nix-hash', ['--type', algo, '--flat', ...files]);
      files.forEach((p, i) => {
        const h = createHash(algo).update(readFileSync(p)).digest();
        assert.is(makeFixedOutputPath('flat', algo, h, nameOf(p)), flat[i], `--add-fixed ${algo} ${p}`);
        assert.is(toHex(h), flatHex[i], `nix-hash --flat ${algo} ${p}`);
      });
    }
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

test('text paths agree with builtins.toFile (with references)', () => {
  if (!needTool('store path oracle', 'nix-instantiate')) return;
  const expr = `let a = builtins.toFile "a" "x"; b = builtins.toFile "b-file" "see \${a}"; c = builtins.toFile "c" "\${a} \${b} ünï\\n"; in [ a b c ]`;
  const out = JSON.parse(runNix('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr]).toString('utf8')) as string[];
  const a = makeTextPath('a', 'x');
  const b = makeTextPath('b-file', `see ${a}`, [a]);
  const c = makeTextPath('c', Buffer.from(`${a} ${b} ünï\n`, 'utf8'), [b, a]);
  assert.equal([a, b, c], out);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
