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

function scanChunks(chunks: Uint8Array[], candidates: string[]): string[] {
  const s = new ReferenceScanner(candidates);
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
  }
});

test('a hash part spread over one-byte and empty chunks is found', () => {
  const text = Buffer.from(`..${C}..${A}`, 'latin1');
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < text.length; i++) chunks.push(text.subarray(i, i + 1), new Uint8Array(0));
  assert.equal(scanChunks(chunks, [A, B, C]), [A, C].sort());
  // Three-way split: the middle chunk shorter than a hash part.
  const h = Buffer.from(`--${hashPartOf(B)}--`, 'latin1');
  assert.equal(scanChunks([h.subarray(0, 10), h.subarray(10, 20), h.subarray(20)], [B]), [B]);
});

test('base-32 characters around a hash part do not hide it (overlapping windows)', () => {
  const h = hashPartOf(A);
  const text = Buffer.from(`0123456789abcdfg${h}zzzz`, 'latin1');
  assert.equal(scanForReferences(text, [A]), [A]);
  for (let cut = 0; cut <= text.length; cut += 3) {
    assert.equal(scanChunks([text.subarray(0, cut), text.subarray(cut)], [A]), [A]);
  }
});

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
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(data.subarray(prev, p));
          prev = p;
        }
        chunks.push(data.subarray(prev));
        assert.equal(scanChunks(chunks, cands), expected);
      },
    ),
    { numRuns: 300, seed: 42 },
  );
});

test.run();
