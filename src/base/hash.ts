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
    if (digit < 0) throw new ImgError('E_HASH', `invalid base-32 hash '${s}'`);
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

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Nix's base64Decode: stops at the first '=', skips '\n', rejects other non-alphabet characters. */
export function fromBase64Nix(s: string): Buffer {
  const out: number[] = [];
  let d = 0;
  let bits = 0;
  for (const c of s) {
    if (c === '=') break;
    if (c === '\n') continue;
    const digit = B64.indexOf(c);
    // Nix 2.8 formats the character with boost's %c, which prints nothing: the message is
    // literally `invalid character in Base64 string: ''`.
    if (digit < 0) throw new ImgError('E_HASH', `invalid character in Base64 string: ''`);
    bits += 6;
    d = ((d << 6) | digit) & 0xffff;
    if (bits >= 8) {
      out.push((d >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** Nix's parseHashType: the algorithm named `s`, or an error. */
export function parseHashAlgo(s: string): HashAlgo {
  if (isHashAlgo(s)) return s;
  throw new ImgError('E_HASH', `unknown hash algorithm '${s}'`);
}

/**
 * Parses a hash the way Nix 2.8's `Hash::parseAny` does: an optional `algo:` prefix (then hex,
 * Nix base32 or base64, chosen by length) or SRI `algo-base64`; without a prefix `algo` must be
 * given. Errors carry Nix's messages (`hash 'x' has wrong length for hash type 'sha256'`, ...).
 */
export function parseHash(text: string, algo?: HashAlgo): { algo: HashAlgo; bytes: Buffer } {
  let rest = text;
  let isSRI = false;
  let parsed: HashAlgo | undefined;
  let sep = rest.indexOf(':');
  if (sep < 0) {
    sep = rest.indexOf('-');
    if (sep >= 0) isSRI = true;
  }
  if (sep >= 0) {
    parsed = parseHashAlgo(rest.slice(0, sep));
    rest = rest.slice(sep + 1);
  }
  if (!parsed && !algo) {
    throw new ImgError('E_HASH', `hash '${rest}' does not include a type, nor is the type otherwise known from context`);
  }
  if (parsed && algo && parsed !== algo) throw new ImgError('E_HASH', `hash '${text}' should have type '${algo}'`);
  const a = (parsed ?? algo)!;
  return { algo: a, bytes: parseHashBody(rest, a, isSRI) };
}

/** Nix's `Hash(rest, type, isSRI)`: the bytes of an unprefixed hash of a known algorithm. */
export function parseHashBody(rest: string, a: HashAlgo, isSRI = false): Buffer {
  const size = HASH_SIZE[a];
  if (!isSRI && rest.length === size * 2) {
    if (!/^[0-9a-fA-F]*$/.test(rest)) throw new ImgError('E_HASH', `invalid base-16 hash '${rest}'`);
    return Buffer.from(rest, 'hex');
  }
  if (!isSRI && rest.length === base32Length(size)) {
    try {
      return fromNixBase32(rest, size);
    } catch {
      throw new ImgError('E_HASH', `invalid base-32 hash '${rest}'`);
    }
  }
  if (isSRI || rest.length === 4 * Math.ceil(size / 3)) {
    const d = fromBase64Nix(rest);
    if (d.length !== size) throw new ImgError('E_HASH', `invalid ${isSRI ? 'SRI' : 'base-64'} hash '${rest}'`);
    return d;
  }
  throw new ImgError('E_HASH', `hash '${rest}' has wrong length for hash type '${a}'`);
}

/** Prints a hash as Nix does: base16 (hex), base32, base64, or SRI; `prefixed` adds `algo:`. */
export function printHash(algo: HashAlgo, b: Uint8Array, base: 'base16' | 'base32' | 'base64' | 'sri', prefixed = false): string {
  if (base === 'sri') return toSRI(algo, b);
  const body = base === 'base16' ? toHex(b) : base === 'base32' ? toNixBase32(b) : Buffer.from(b).toString('base64');
  return prefixed ? `${algo}:${body}` : body;
}
