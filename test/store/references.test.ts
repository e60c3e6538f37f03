// The streaming reference scanner: hash parts found anywhere in a stream, including split across
// chunk boundaries at every position and across many tiny chunks; never a hash part that does
// not occur; same answer as a whole-buffer search (`grep -F` semantics) for random streams.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ReferenceScanner, hashPartOf, scanForReferences } from '../../src/store/references.js';
import { makeTextPath } from '../../src/derivation/store-path.js';

const test = suite('store/references');

const A = makeTextPath('a', 'a');
const B = makeTextPath('b', 'b');
const C = makeTextPath('c', 'c');
const SELF = makeTextPath('self', 'self');

/** A prefix that makes any stream long (past the held small-stream scan) and holds no hash part. */
const SMALL_STREAM = 256 * 1024; // src/store/references.ts
const LONG_PREFIX = Buffer.alloc(SMALL_STREAM + 1, '-');

function scanChunks(chunks: Uint8Array[], candidates: string[], long = false): string[] {
  const s = new ReferenceScanner(candidates);
  if (long) s.update(LONG_PREFIX);
  for (const c of chunks) s.update(c);
  return s.result();
}

test('finds hash parts in file contents, symlink targets and names; not absent ones', () => {
  const data = Buffer.from(`#!${A}/bin/sh\0garbage${hashPartOf(SELF)}!`, 'latin1');
  assert.equal(scanForReferences(data, [A, B, SELF]), [A, SELF].sort());
  assert.equal(scanForReferences(Buffer.from('nothing here'), [A, B]), []);
  // A hash part needs all 32 characters.
  assert.equal(scanForReferences(Buffer.from(hashPartOf(A).slice(0, 31)), [A]), []);
});

test('a hash part split across two chunks is found at every split position', () => {
  const text = Buffer.from(`xx ${B}/lib yy`, 'latin1');
  const start = text.indexOf(hashPartOf(B));
  for (let cut = 0; cut <= text.length; cut++) {
    assert.equal(scanChunks([text.subarray(0, cut), text.subarray(cut)], [A, B]), [B], `cut at ${cut} (hash at ${start})`);
    assert.equal(scanChunks([text.subarray(0, cut), text.subarray(cut)], [A, B], true), [B], `long, cut at ${cut}`);
  }
});

test('a hash part spread over one-byte and empty chunks is found', () => {
  const text = Buffer.from(`..${C}..${A}`, 'latin1');
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < text.length; i++) chunks.push(text.subarray(i, i + 1), new Uint8Array(0));
  assert.equal(scanChunks(chunks, [A, B, C]), [A, C].sort());
  assert.equal(scanChunks(chunks, [A, B, C], true), [A, C].sort());
  // Three-way split: the middle chunk shorter than a hash part.
  const h = Buffer.from(`--${hashPartOf(B)}--`, 'latin1');
  assert.equal(scanChunks([h.subarray(0, 10), h.subarray(10, 20), h.subarray(20)], [B]), [B]);
});

test('a stream that becomes long while a hash part is split: the held chunks are scanned first', () => {
  const h = hashPartOf(B);
  for (const before of [SMALL_STREAM - 40, SMALL_STREAM - 20, SMALL_STREAM - 5]) {
    const data = Buffer.concat([Buffer.alloc(before, '-'), Buffer.from(`${h}/${hashPartOf(C)}`, 'latin1'), Buffer.alloc(100, '-')]);
    for (const cut of [before + 3, before + 16, before + 40, before + 70]) {
      assert.equal(scanChunks([data.subarray(0, cut), data.subarray(cut)], [A, B, C]), [B, C].sort(), `${before}, cut at ${cut}`);
      assert.equal(scanChunks([data.subarray(0, cut - 100), data.subarray(cut - 100, cut), data.subarray(cut)], [A, B, C]), [B, C].sort());
    }
  }
});

test('a short stream of long base32 runs: found (the held scan turns to the tables)', () => {
  const data = Buffer.concat([Buffer.alloc(100_000, 'x'), Buffer.from(`${hashPartOf(A)}-${'y'.repeat(50)}${hashPartOf(C)}`, 'latin1')]);
  assert.equal(scanChunks([data.subarray(0, 50_000), data.subarray(50_000)], [A, B, C]), [A, C].sort());
  assert.equal(scanForReferences(data.subarray(99_000), [A, B, C]), [A, C].sort());
});

test('base-32 characters around a hash part do not hide it (overlapping windows)', () => {
  const h = hashPartOf(A);
  const text = Buffer.from(`0123456789abcdfg${h}zzzz`, 'latin1');
  assert.equal(scanForReferences(text, [A]), [A]);
  for (let cut = 0; cut <= text.length; cut += 3) {
    assert.equal(scanChunks([text.subarray(0, cut), text.subarray(cut)], [A]), [A]);
  }
});

/** `data` cut at the given offsets (taken modulo its length + 1). */
function cutAt(data: Buffer, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(data.subarray(prev, p));
    prev = p;
  }
  chunks.push(data.subarray(prev));
  return chunks;
}

test('random streams, random chunkings: same answer as a whole-buffer search', () => {
  const cands = [A, B, C, SELF];
  const alphabet = '0123456789abcdfghijklmnpqrsvwxyz-/ \0';
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...cands.map(hashPartOf)), fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 40 })), { maxLength: 8 }),
      fc.array(fc.nat(200), { maxLength: 6 }),
      (parts, cuts) => {
        const data = Buffer.from(parts.join(''), 'latin1');
        const expected = cands.filter((p) => data.includes(hashPartOf(p))).sort();
        const chunks = cutAt(data, cuts);
        // Short streams (held, scanned at the end) and long ones (the Wu-Manber tables).
        assert.equal(scanChunks(chunks, cands), expected);
        assert.equal(scanChunks(chunks, cands, true), expected);
      },
    ),
    { numRuns: 300, seed: 42 },
  );
});

const B32 = '0123456789abcdfghijklmnpqrsvwxyz';

test('long base32 runs: found at any offset and chunking; no exact lookups on a run of x', () => {
  // Candidates over a 3-letter alphabet share many 4-byte blocks with each other and the text.
  const small = ['x', 'y', '0'];
  const mk = (seed: number): string => Array.from({ length: 32 }, (_, k) => small[(seed * 7 + k * k * 3 + (seed >> k % 5)) % 3]!).join('');
  const hashes = Array.from({ length: 40 }, (_, k) => mk(k + 1));
  const cands = hashes.map((h, k) => `/nix/store/${h}-c${k}`);
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...hashes), fc.string({ unit: fc.constantFrom(...small, 'z', '-'), maxLength: 300 })), { maxLength: 10 }),
      fc.array(fc.nat(4000), { maxLength: 5 }),
      (parts, cuts) => {
        const data = Buffer.from(parts.join(''), 'latin1');
        const expected = cands.filter((p) => data.includes(hashPartOf(p))).sort();
        const chunks = cutAt(data, cuts);
        // Short streams (held, scanned at the end) and long ones (the Wu-Manber tables).
        assert.equal(scanChunks(chunks, cands), expected);
        assert.equal(scanChunks(chunks, cands, true), expected);
      },
    ),
    { numRuns: 300, seed: 7 },
  );
  // A 4 MiB run of one base32 character (as in binaries and layer tars) with 300 candidates:
  // crossed in steps, never a window read as a string.
  const many = Array.from({ length: 300 }, (_, k) => makeTextPath(`cand-${k}`, `candidate ${k}`));
  const s = new ReferenceScanner(many);
  const run = Buffer.alloc(4 << 20, 'x');
  for (let off = 0; off < run.length; off += 65536) s.update(run.subarray(off, off + 65536));
  assert.equal(s.result(), []);
  assert.is(s.lookups, 0);
});

test('a candidate ending in the run, one that begins it, and one found many times before another', () => {
  const ends = `/nix/store/0${'x'.repeat(31)}-ends`;
  const begins = `/nix/store/${'x'.repeat(31)}0-begins`;
  const all = `/nix/store/${'x'.repeat(32)}-all`;
  const run = Buffer.alloc(100_000, 'x');
  assert.equal(scanForReferences(run, [ends, begins]), []);
  assert.equal(scanForReferences(Buffer.concat([run, Buffer.from('0'), run]), [ends, begins, all]), [all, begins, ends].sort());
  // The first found hash part repeated 10 000 times (the tables drop it), then a second one.
  const h = hashPartOf(A);
  const text = Buffer.from(`${h}-`.repeat(10_000) + `${B}`, 'latin1');
  const s = new ReferenceScanner([A, B, C]);
  for (let off = 0; off < text.length; off += 1000) s.update(text.subarray(off, off + 1000));
  assert.equal(s.result(), [A, B].sort());
  assert.ok(s.lookups < 5000, `lookups ${s.lookups}`);
  // Random base32 text of 1 MiB with the candidates planted at random offsets.
  const rnd = Buffer.from(Array.from({ length: 1 << 20 }, (_, k) => B32.charCodeAt((k * 2654435761) >>> 27)));
  for (const [p, at] of [[A, 17], [C, 500_001]] as const) rnd.write(hashPartOf(p), at, 'latin1');
  assert.equal(scanForReferences(rnd, [A, B, C, SELF]), [A, C].sort());
});

test.run();
