// store/references: finds which candidate store paths a byte stream (a path's NAR) refers to, by
// looking for their 32-character hash parts, as Nix's RefScanSink does: fed chunk by chunk, it
// also sees a hash part split across two chunks. Never reads files itself and never decides
// which paths are candidates (the caller passes the inputs' closure, plus the path itself).

/** Length of the hash part of a store path (`/nix/store/<32 chars>-name`). */
export const HASH_PART_LENGTH = 32;

const IS_BASE32 = new Uint8Array(256);
for (const c of '0123456789abcdfghijklmnpqrsvwxyz') IS_BASE32[c.charCodeAt(0)] = 1;

/** The hash part of a logical store path (`/nix/store/<hash>-<name>` → `<hash>`). */
export function hashPartOf(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  return base.slice(0, HASH_PART_LENGTH);
}

export class ReferenceScanner {
  /** Hash parts still to be found → their store paths. */
  private readonly pending = new Map<string, string[]>();
  private readonly found = new Set<string>();
  /** The last (up to) 31 bytes seen, to catch a hash part split across chunks. */
  private tail = new Uint8Array(0);

  constructor(candidates: Iterable<string>) {
    for (const p of candidates) {
      const h = hashPartOf(p);
      const l = this.pending.get(h);
      if (l) {
        if (!l.includes(p)) l.push(p);
      } else this.pending.set(h, [p]);
    }
  }

  /** Feeds the next chunk of the stream. */
  update(chunk: Uint8Array): void {
    if (this.pending.size === 0 || chunk.length === 0) return;
    const L = HASH_PART_LENGTH;
    if (this.tail.length > 0) {
      // Across the boundary: the old tail followed by the start of this chunk.
      const head = chunk.subarray(0, Math.min(L - 1, chunk.length));
      const joint = new Uint8Array(this.tail.length + head.length);
      joint.set(this.tail, 0);
      joint.set(head, this.tail.length);
      this.search(joint);
    }
    this.search(chunk);
    // Keep the last L-1 bytes of (tail + chunk).
    if (chunk.length >= L - 1) {
      this.tail = chunk.slice(chunk.length - (L - 1));
    } else {
      const t = new Uint8Array(Math.min(L - 1, this.tail.length + chunk.length));
      const fromTail = t.length - chunk.length;
      t.set(this.tail.subarray(this.tail.length - fromTail), 0);
      t.set(chunk, fromTail);
      this.tail = t;
    }
  }

  private search(s: Uint8Array): void {
    const L = HASH_PART_LENGTH;
    const n = s.length;
    let i = 0;
    while (i + L <= n) {
      let j = L - 1;
      while (j >= 0 && IS_BASE32[s[i + j]!]) j--;
      if (j >= 0) {
        i += j + 1;
        continue;
      }
      const h = Buffer.from(s.buffer, s.byteOffset + i, L).toString('latin1');
      const paths = this.pending.get(h);
      if (paths) {
        this.pending.delete(h);
        for (const p of paths) this.found.add(p);
        if (this.pending.size === 0) return;
      }
      i++;
    }
  }

  /** The candidates found so far, sorted. */
  result(): string[] {
    return [...this.found].sort();
  }
}

/** Scans a whole buffer at once (tests, small files). */
export function scanForReferences(data: Uint8Array, candidates: Iterable<string>): string[] {
  const s = new ReferenceScanner(candidates);
  s.update(data);
  return s.result();
}
