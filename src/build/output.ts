// build/output: what happens to a builder's outputs before they become valid: Nix's metadata
// canonicalisation, one pass over the NAR that hashes it and scans it for references (the inputs'
// closure and the derivation's own outputs), the fixed-output hash check (error with the
// specified and the actual hash, in the user's encoding and in SRI), and, for `--check`, the
// comparison with the registered path naming the first differing file. A built-in builder that
// writes a big single-file output may hash it while writing (build/nar-file-hash.ts: the same
// NAR bytes, the same scan) and hand the result over; it is then taken as it is (after checking
// that the file's size agrees), never for fixed outputs and never in `--check`. Never moves anything into
// the store and never registers (the scheduler does, under the output locks).

import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { ImgError } from '../base/error.js';
import { HASH_SIZE, base32Length, printHash, type HashAlgo } from '../base/hash.js';
import { writeNar } from '../derivation/nar.js';
import type { FixedOutputHash } from '../derivation/derivation.js';
import { renderContentAddress } from '../derivation/store-path.js';
import { canonicaliseTree } from '../store/fs-tree.js';
import { nodeFsReader } from '../store/fs-reader.js';
import type { NewPathInfo } from '../store/local-store.js';
import { ReferenceScanner } from '../store/references.js';
import type { HashedOutput } from './nar-file-hash.js';

export { NarFileHasher, type HashedOutput } from './nar-file-hash.js';

export interface FinishOptions {
  drvPath: string;
  /** Store paths the output may refer to (inputs' closure + all outputs of the derivation). */
  candidates: Iterable<string>;
  /** For a fixed-output derivation: the expected hash and the string the user wrote. */
  fixed?: FixedOutputHash & { userHash?: string };
  /** What the builder computed while writing a single-file output (ignored for fixed outputs). */
  hashed?: HashedOutput;
}

/** How the user wrote a hash: SRI, `algo:`-prefixed or bare, and in which base. */
function encodingOf(text: string | undefined, algo: HashAlgo): { base: 'base16' | 'base32' | 'base64' | 'sri'; prefixed: boolean } {
  if (text === undefined) return { base: 'sri', prefixed: false };
  if (/^[a-z0-9]+-/.test(text)) return { base: 'sri', prefixed: false };
  let body = text;
  let prefixed = false;
  const colon = text.indexOf(':');
  if (colon >= 0) {
    prefixed = true;
    body = text.slice(colon + 1);
  }
  const n = HASH_SIZE[algo];
  const base = body.length === n * 2 ? 'base16' : body.length === base32Length(n) ? 'base32' : 'base64';
  return { base, prefixed };
}

/** A hash in the user's encoding, followed by its SRI form when that differs. */
export function showHash(algo: HashAlgo, bytes: Uint8Array, userForm: string | undefined): string {
  const enc = encodingOf(userForm, algo);
  const own = printHash(algo, bytes, enc.base, enc.prefixed);
  const sri = printHash(algo, bytes, 'sri');
  return own === sri ? sri : `${own} (${sri})`;
}

/**
 * Canonicalises the output built at `temp` (physical) for store path `storePath`, hashes it,
 * finds its references and checks a fixed output's hash. Returns the info to register.
 */
export function finishOutput(temp: string, storePath: string, opts: FinishOptions): NewPathInfo {
  let st;
  try {
    st = lstatSync(temp);
  } catch {
    throw new ImgError('E_BUILD', `builder for '${opts.drvPath}' failed to produce output path '${storePath}'`);
  }
  canonicaliseTree(temp);
  const fixed = opts.fixed;
  const hashed = opts.hashed;
  if (hashed && !fixed) {
    // Taken as the builder computed it; the file must be the one it described.
    if (!st.isFile() || st.size !== hashed.fileSize || ((st.mode & 0o100) !== 0) !== hashed.executable) {
      throw new Error(`internal error: builder of '${opts.drvPath}' described its output '${storePath}' as a ${hashed.executable ? 'executable ' : ''}file of ${hashed.fileSize} bytes, but it is not`);
    }
    return {
      path: storePath,
      narHash: printHash('sha256', hashed.narHash, 'base32', true),
      narSize: hashed.narSize,
      references: [...hashed.references],
      deriver: opts.drvPath,
      ultimate: true,
    };
  }
  const scanner = new ReferenceScanner([...opts.candidates, storePath]);
  const nar = createHash('sha256');
  const recursiveOther = fixed && fixed.method === 'recursive' && fixed.algo !== 'sha256' ? createHash(fixed.algo) : undefined;
  let narSize = 0;
  writeNar(nodeFsReader, temp, (c) => {
    nar.update(c);
    recursiveOther?.update(c);
    scanner.update(c);
    narSize += c.length;
  });
  const narHash = nar.digest();
  const references = scanner.result();
  let ca: string | undefined;
  if (fixed) {
    let got: Buffer;
    if (fixed.method === 'flat') {
      if (!st.isFile() || (st.mode & 0o100) !== 0) {
        throw new ImgError(
          'E_BUILD',
          `output path '${storePath}' should be a non-executable regular file since recursive hashing is not enabled (outputHashMode=flat)`,
        );
      }
      got = createHash(fixed.algo).update(readFileSync(temp)).digest();
    } else got = recursiveOther ? recursiveOther.digest() : narHash;
    if (!got.equals(fixed.hash)) {
      throw new ImgError('E_HASH_MISMATCH', `hash mismatch in fixed-output derivation '${opts.drvPath}'`, undefined, [
        { message: `specified: ${showHash(fixed.algo, fixed.hash, fixed.userHash)}` },
        { message: `got:       ${showHash(fixed.algo, got, fixed.userHash)}` },
        // what to write instead (added for pullImage, issue 6): the got hash in the user's own form
        { message: `to accept this content, write "${showHash(fixed.algo, got, fixed.userHash).replace(/ \(.*\)$/, '')}" in place of "${fixed.userHash ?? printHash(fixed.algo, fixed.hash, 'sri')}"` },
      ]);
    }
    if (references.length > 0) {
      throw new ImgError('E_BUILD', `fixed-output derivation '${opts.drvPath}' produced '${storePath}' that refers to store paths: '${references.join("', '")}'`, undefined, [
        { message: 'the output of a fixed-output derivation must not refer to other store paths (nor to itself)' },
      ]);
    }
    ca = renderContentAddress({ method: fixed.method, algo: fixed.algo, hash: got });
  }
  return {
    path: storePath,
    narHash: printHash('sha256', narHash, 'base32', true),
    narSize,
    references,
    deriver: opts.drvPath,
    ...(ca ? { ca } : {}),
    ultimate: true,
  };
}

/**
 * The first difference between two trees (relative path, '' for the root, and what differs), in
 * NAR order; undefined when they are equal as NARs.
 */
export function firstDifference(a: string, b: string, rel = ''): { path: string; what: string } | undefined {
  const sa = lstatSync(a);
  const sb = lstatSync(b);
  const kind = (s: typeof sa) => (s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'symlink' : s.isFile() ? 'regular file' : 'other');
  const here = rel === '' ? '/' : rel;
  if (kind(sa) !== kind(sb)) return { path: here, what: `a ${kind(sb)} became a ${kind(sa)}` };
  if (sa.isSymbolicLink()) {
    const ta = readlinkSync(a, { encoding: 'buffer' });
    const tb = readlinkSync(b, { encoding: 'buffer' });
    return ta.equals(tb) ? undefined : { path: here, what: `symlink target '${tb.toString('latin1')}' became '${ta.toString('latin1')}'` };
  }
  if (sa.isFile()) {
    if ((sa.mode & 0o100) !== (sb.mode & 0o100)) return { path: here, what: 'the executable bit differs' };
    const da = readFileSync(a);
    const db = readFileSync(b);
    if (da.equals(db)) return undefined;
    return { path: here, what: `contents differ (${db.length} bytes before, ${da.length} bytes now)` };
  }
  const na = readdirSync(a, { encoding: 'buffer' }).map((x) => x.toString('latin1')).sort();
  const nb = readdirSync(b, { encoding: 'buffer' }).map((x) => x.toString('latin1')).sort();
  const all = [...new Set([...na, ...nb])].sort();
  for (const n of all) {
    const inA = na.includes(n);
    const inB = nb.includes(n);
    const p = `${rel}/${n}`;
    if (!inA) return { path: p, what: 'it is missing now' };
    if (!inB) return { path: p, what: 'it is new' };
    const d = firstDifference(`${a}/${Buffer.from(n, 'latin1').toString('utf8')}`, `${b}/${Buffer.from(n, 'latin1').toString('utf8')}`, p);
    if (d) return d;
  }
  return undefined;
}
