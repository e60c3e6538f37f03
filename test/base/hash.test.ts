// base/hash against the real Nix 2.8: base32/base64/SRI printing of random digests of every
// algorithm, and Hash::parseAny (via `nix hash to-base16`) on valid and malformed inputs,
// including its error messages.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import {
  HASH_SIZE,
  compressHash,
  fromNixBase32,
  parseHash,
  printHash,
  sha256,
  toHex,
  toNixBase32,
  toSRI,
  type HashAlgo,
} from '../../src/base/hash.js';
import { isImgError } from '../../src/base/error.js';
import { needTool } from '../helpers/tools.js';
import { nixEnv } from '../derivation/nix-env.js';
import { spawnSync } from 'node:child_process';

const test = suite('base/hash');
const ALGOS: HashAlgo[] = ['md5', 'sha1', 'sha256', 'sha512'];

function nix(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('nix', ['--extra-experimental-features', 'nix-command', ...args], { env: nixEnv(), encoding: 'utf8' });
  const err = (r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '').replace(/^error: /, '');
  return { ok: r.status === 0, out: r.stdout, err };
}

const digests = ALGOS.flatMap((a) => [0, 1, 2].map((i) => ({ algo: a, bytes: createHash(a).update(`imgeval ${i}`).digest() })));

test('verified examples from the reference', () => {
  assert.is(toNixBase32(Buffer.from([1])), '01');
  assert.is(toNixBase32(Buffer.concat([Buffer.from([1]), Buffer.alloc(19)])), '0'.repeat(31) + '1');
  assert.is(toNixBase32(Buffer.concat([Buffer.alloc(19), Buffer.from([1])])), '04' + '0'.repeat(30));
  assert.is(toNixBase32(sha256('hello\n')), '00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq');
  const folded = compressHash(Buffer.from('1815be57cf8db6d39c690b6869d4caaebdc483c28f6e42d18e0e066276405238', 'hex'), 20);
  assert.is(toHex(folded), '977bfc864183b0b1ea29595069d4caaebdc483c2');
});

test('base32 / base64 / SRI printing agree with `nix hash to-*`', () => {
  if (!needTool('hash oracle', 'nix')) return;
  for (const to of ['base32', 'base64', 'sri'] as const) {
    const r = nix(['hash', `to-${to}`, ...digests.map((d) => `${d.algo}:${toHex(d.bytes)}`)]);
    assert.ok(r.ok, r.err);
    const lines = r.out.trim().split('\n');
    digests.forEach((d, i) => {
      assert.is(printHash(d.algo, d.bytes, to), lines[i], `${to} of ${d.algo}`);
      if (to === 'sri') assert.is(toSRI(d.algo, d.bytes), lines[i]);
      if (to === 'base32') assert.equal(fromNixBase32(lines[i]!, HASH_SIZE[d.algo]), d.bytes);
    });
  }
});

/** Inputs for Hash::parseAny: every form of each digest plus malformed ones. */
function parseCases(): { text: string; algo?: HashAlgo }[] {
  const out: { text: string; algo?: HashAlgo }[] = [];
  for (const [i, d] of digests.entries()) {
    if (i % 3 !== 0) continue;
    const hex = toHex(d.bytes);
    const b32 = toNixBase32(d.bytes);
    const b64 = d.bytes.toString('base64');
    out.push({ text: hex, algo: d.algo }, { text: hex.toUpperCase(), algo: d.algo }, { text: b32, algo: d.algo });
    out.push({ text: b64, algo: d.algo }, { text: `${d.algo}:${b32}` }, { text: `${d.algo}:${b64}` }, { text: `${d.algo}-${b64}` });
    out.push({ text: `${d.algo}-${b64.replace(/=+$/, '')}` }); // SRI without padding
    out.push({ text: hex.slice(1), algo: d.algo }); // wrong length
    out.push({ text: `${d.algo}-${b64.slice(4)}` }); // SRI too short
  }
  const h = toHex(sha256('x'));
  const b32 = toNixBase32(sha256('x'));
  out.push(
    { text: h }, // no type
    { text: `sha1:${h}`, algo: 'sha256' }, // type mismatch
    { text: `foo:${h}` }, // unknown algo
    { text: `sha256:${'g'.repeat(64)}` }, // bad hex digit
    { text: `sha256:${'e'.repeat(52)}` }, // 'e' is not in the base32 alphabet
    { text: `sha256:${'z'.repeat(52)}` }, // base32 overflow in the top digit
    { text: `sha256:${b32.replace(/^./, 'z')}` },
    { text: `sha256:${'!'.repeat(44)}` }, // bad base64 char
    { text: `sha256-${sha256('x').toString('base64').replace(/^./, '-')}` },
    { text: '', algo: 'sha256' },
  );
  return out;
}

test('parseHash agrees with Nix Hash::parseAny (values and error messages)', () => {
  if (!needTool('hash oracle', 'nix')) return;
  for (const c of parseCases()) {
    const r = nix(['hash', 'to-base16', ...(c.algo ? ['--type', c.algo] : []), c.text]);
    let mine: { ok: boolean; out: string; err: string };
    try {
      const p = parseHash(c.text, c.algo);
      mine = { ok: true, out: `${toHex(p.bytes)}\n`, err: '' };
    } catch (e) {
      if (!isImgError(e)) throw e;
      mine = { ok: false, out: '', err: e.message };
    }
    assert.equal(mine, r, `parseHash(${JSON.stringify(c.text)}, ${c.algo})`);
  }
});

test.run();
