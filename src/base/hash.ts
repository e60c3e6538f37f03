// base/hash: digests and the encodings Nix uses for them: lowercase hex, Nix base32 (its own
// alphabet and bit order), standard base64 and SRI (`sha256-<base64>`), plus parsing any of them
// back into bytes for a given algorithm.

import { createHash } from 'node:crypto';
import { ImgError } from './error.js';

export type HashAlgo = 'md5' | 'sha1' | 'sha256' | 'sha512';

export const HASH_SIZE: Record<HashAlgo, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

export function isHashAlgo(s: string): s is HashAlgo {
  return s === 'md5' || s === 'sha1' || s === 'sha256' || s === 'sha512';
}

export function digest(algo: HashAlgo, data: string | Uint8Array): Buffer {
  return createHash(algo).update(data).digest();
}

export function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const B32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** Nix base32: length ceil(n*8/5); character i (from the end) holds bits 5i..5i+4, little-endian. */
export function toNixBase32(b: Uint8Array): string {
  const len = Math.floor((b.length * 8 - 1) / 5) + 1;
  let s = '';
  for (let n = len - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    const c = ((b[i]! >> j) | (i + 1 < b.length ? b[i + 1]! << (8 - j) : 0)) & 0x1f;
    s += B32[c];
  }
  return s;
}

export function fromNixBase32(s: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  const len = s.length;
  for (let n = 0; n < len; n++) {
    const c = s[len - n - 1]!;
    const digit = B32.indexOf(c);
    if (digit < 0) throw new ImgError('E_HASH', `invalid character '${c}' in a base-32 hash`);
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    out[i] = out[i]! | ((digit << j) & 0xff);
    const carry = digit >> (8 - j);
    if (i + 1 < size) out[i + 1] = out[i + 1]! | carry;
    else if (carry) throw new ImgError('E_HASH', `invalid base-32 hash '${s}'`);
  }
  return out;
}

export function base32Length(size: number): number {
  return Math.floor((size * 8 - 1) / 5) + 1;
}

/** Compresses a hash to `size` bytes by XOR-folding (Nix's compressHash, used for store paths). */
export function compressHash(h: Uint8Array, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < h.length; i++) out[i % size] = out[i % size]! ^ h[i]!;
  return out;
}

export function toSRI(algo: HashAlgo, b: Uint8Array): string {
  return `${algo}-${Buffer.from(b).toString('base64')}`;
}

/**
 * Parses a hash written as hex, Nix base32, base64 or SRI (`algo-base64`, or `algo:xxx`).
 * `algo` may be omitted when the text carries it (SRI or `algo:` prefix).
 */
export function parseHash(text: string, algo?: HashAlgo): { algo: HashAlgo; bytes: Buffer } {
  let body = text;
  let a = algo;
  const sri = /^(md5|sha1|sha256|sha512)-(.*)$/.exec(text);
  const pre = /^(md5|sha1|sha256|sha512):(.*)$/.exec(text);
  let forceB64 = false;
  if (sri) {
    if (a && a !== sri[1]) throw new ImgError('E_HASH', `hash '${text}' should have type '${a}'`);
    a = sri[1] as HashAlgo;
    body = sri[2]!;
    forceB64 = true;
  } else if (pre) {
    if (a && a !== pre[1]) throw new ImgError('E_HASH', `hash '${text}' should have type '${a}'`);
    a = pre[1] as HashAlgo;
    body = pre[2]!;
  }
  if (!a) throw new ImgError('E_HASH', `hash '${text}' does not include a type`);
  const size = HASH_SIZE[a];
  if (!forceB64 && body.length === size * 2 && /^[0-9a-fA-F]+$/.test(body)) {
    return { algo: a, bytes: Buffer.from(body, 'hex') };
  }
  if (!forceB64 && body.length === base32Length(size)) {
    return { algo: a, bytes: fromNixBase32(body, size) };
  }
  const b64len = 4 * Math.ceil(size / 3);
  if (body.length === b64len) {
    const bytes = Buffer.from(body, 'base64');
    if (bytes.length === size) return { algo: a, bytes };
  }
  throw new ImgError('E_HASH', `hash '${text}' has wrong length for hash type '${a}'`);
}
