// store/references: finds which candidate store paths a byte stream (a path's NAR) refers to, by
// looking for their 32-character hash parts, as Nix's RefScanSink does: fed chunk by chunk, it
// also sees a hash part split across two chunks. Never reads files itself and never decides
// which paths are candidates (the caller passes the inputs' closure, plus the path itself).

/** Length of the hash part of a store path (`/nix/store/<32 chars>-name`). */
export const HASH_PART_LENGTH = 32;

/** The hash part of a logical store path (`/nix/store/<hash>-<name>` → `<hash>`). */
export function hashPartOf(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  return base.slice(0, HASH_PART_LENGTH);
}

/** The 5-bit value of each base32 byte; NOT_BASE32 for every other byte. */
const NOT_BASE32 = 255;
const VALUE = new Uint8Array(256).fill(NOT_BASE32);
{
  let v = 0;
  for (const c of '0123456789abcdfghijklmnpqrsvwxyz') VALUE[c.charCodeAt(0)] = v++;
}
/** Block length of the skip table (Wu-Manber): 4 base32 bytes = a 20-bit key. */
const BLOCK = 4;
const KEY_BITS = 5 * BLOCK;
/** The shift for a block that occurs in no pending hash part. */
const MAX_SHIFT = HASH_PART_LENGTH - BLOCK + 1;
/** Failed exact lookups (hash parts already found, filter collisions) before the tables are rebuilt. */
const REBUILD_AFTER = 4096;
/**
 * Streams up to this many bytes are held and scanned at the end without the Wu-Manber tables
 * (1.1 MB to fill, for a few-KB output), by a regex for base32 runs and exact lookups.
 */
const SMALL_STREAM = 256 * 1024;
/** Windows the small-stream scan looks up before it turns to the tables (base32-dense streams). */
const SMALL_STREAM_LOOKUPS = 16 * 1024;

/**
 * Scanning is linear (bounded work per byte) and allocation-free per byte. As Nix's RefScanSink it looks at the
 * end of a 32-byte window first and jumps past any byte that is not base32; inside base32 runs
 * it is a Wu-Manber multi-pattern search: the last 4 bytes of the window index a table of how
 * far the window can move without skipping over an occurrence of any pending hash part (29 for
 * a block no hash part contains, so long runs of base32 — all-'x', hash-dense text — are crossed
 * 29 bytes per step). Only where the shift is 0 is the window's first block checked against a
 * bit set of the hash parts' first blocks, and only then is it read as a string and looked up.
 * (The slow case: a long run that, at every position, ends with the last 4 bytes of a candidate,
 * e.g. all-'x' with a candidate ending in 'xxxx'; then every window is checked, ~10× slower.)
 * A stream of at most SMALL_STREAM bytes (most outputs: a conf, a script, a text file) never
 * gets those 1.1 MB tables: it is held and scanned once at `result()` (scanHeld).
 */
export class ReferenceScanner {
  /** Hash parts still to be found → their store paths. */
  private readonly pending = new Map<string, string[]>();
  private readonly found = new Set<string>();
  /** The last (up to) 31 bytes seen, to catch a hash part split across chunks. */
  private tail = new Uint8Array(0);
  /** Wu-Manber shift by the key of a window's last block (made when the stream gets long). */
  private shift: Uint8Array | undefined;
  /** Bit set of the keys of the pending hash parts' first blocks. */
  private first: Uint32Array | undefined;
  /** Copies of the chunks of a stream still short enough for the small scan. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private misses = 0;
  private foundSinceBuild = false;
  /** Windows read as strings and looked up exactly so far (a measure of work, for tests). */
  lookups = 0;

  constructor(candidates: Iterable<string>) {
    for (const p of candidates) {
      const h = hashPartOf(p);
      const l = this.pending.get(h);
      if (l) {
        if (!l.includes(p)) l.push(p);
      } else this.pending.set(h, [p]);
    }
  }

  private buildTables(): void {
    const shift = (this.shift ??= new Uint8Array(1 << KEY_BITS));
    const first = (this.first ??= new Uint32Array(1 << (KEY_BITS - 5)));
    shift.fill(MAX_SHIFT);
    first.fill(0);
    this.misses = 0;
    this.foundSinceBuild = false;
    const v = new Uint8Array(HASH_PART_LENGTH);
    for (const h of this.pending.keys()) {
      // A hash part that is not 32 base32 bytes can never match a window: leave it out.
      if (h.length !== HASH_PART_LENGTH) continue;
      let ok = true;
      for (let k = 0; k < HASH_PART_LENGTH; k++) {
        const ch = h.charCodeAt(k);
        if (ch > 0xff || (v[k] = VALUE[ch]!) === NOT_BASE32) ok = false;
      }
      if (!ok) continue;
      for (let end = BLOCK - 1; end < HASH_PART_LENGTH; end++) {
        const key = (v[end - 3]! << 15) | (v[end - 2]! << 10) | (v[end - 1]! << 5) | v[end]!;
        const d = HASH_PART_LENGTH - 1 - end;
        if (d < shift[key]!) shift[key] = d;
      }
      const k0 = (v[0]! << 15) | (v[1]! << 10) | (v[2]! << 5) | v[3]!;
      first[k0 >>> 5]! |= 1 << (k0 & 31);
    }
  }

  /** Feeds the next chunk of the stream. */
  update(chunk: Uint8Array): void {
    if (this.pending.size === 0 || chunk.length === 0) return;
    if (this.shift === undefined) {
      if (this.heldBytes + chunk.length <= SMALL_STREAM) {
        this.held.push(chunk.slice());
        this.heldBytes += chunk.length;
        return;
      }
      // Long after all: the tables, then what was held, in order.
      this.buildTables();
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const c of held) this.feed(c);
    }
    this.feed(chunk);
  }

  private feed(chunk: Uint8Array): void {
    if (this.pending.size === 0) return;
    const L = HASH_PART_LENGTH;
    if (this.tail.length > 0) {
      // Across the boundary: the old tail followed by the start of this chunk (at most 62
      // bytes, so only windows that straddle the boundary fit).
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
    const value = VALUE;
    const shift = this.shift!;
    const first = this.first!;
    let i = 0;
    while (i + L <= n) {
      const e = i + L - 1;
      // The window's last block; a non-base32 byte at k means no window starts before k + 1.
      const a = value[s[e]!]!;
      if (a === NOT_BASE32) {
        i = e + 1;
        continue;
      }
      const b = value[s[e - 1]!]!;
      if (b === NOT_BASE32) {
        i = e;
        continue;
      }
      const c = value[s[e - 2]!]!;
      if (c === NOT_BASE32) {
        i = e - 1;
        continue;
      }
      const d = value[s[e - 3]!]!;
      if (d === NOT_BASE32) {
        i = e - 2;
        continue;
      }
      const sh = shift[(d << 15) | (c << 10) | (b << 5) | a]!;
      if (sh !== 0) {
        i += sh;
        continue;
      }
      // The last block ends some hash part: check the first block, then the whole window.
      const p0 = value[s[i]!]!;
      const p1 = value[s[i + 1]!]!;
      const p2 = value[s[i + 2]!]!;
      const p3 = value[s[i + 3]!]!;
      if ((p0 | p1 | p2 | p3) < 32) {
        const k0 = (p0 << 15) | (p1 << 10) | (p2 << 5) | p3;
        if ((first[k0 >>> 5]! >>> (k0 & 31)) & 1 && this.check(s, i)) return;
      }
      i++;
    }
  }

  /** Exact lookup of the window at `i`. True when nothing is left to find. */
  private check(s: Uint8Array, i: number): boolean {
    this.lookups++;
    const h = Buffer.from(s.buffer, s.byteOffset + i, HASH_PART_LENGTH).toString('latin1');
    if (this.pending.has(h)) return this.take(h);
    // Windows that keep passing the filters for nothing (a hash part found already, repeated
    // many times): drop what was found from the tables.
    if (++this.misses >= REBUILD_AFTER) {
      if (this.foundSinceBuild) this.buildTables();
      else this.misses = 0;
    }
    return false;
  }

  /** Marks hash part `h` found when it is pending. True when nothing is left to find. */
  private take(h: string): boolean {
    const paths = this.pending.get(h);
    if (paths === undefined) return false;
    this.foundSinceBuild = true;
    this.pending.delete(h);
    for (const p of paths) this.found.add(p);
    return this.pending.size === 0;
  }

  /**
   * The held short stream, without tables: native regex search for runs of 32 or more base32
   * bytes, each window of a run looked up (a hash part is followed by `-`, so mostly one per
   * run). A stream with too many windows (long base32 runs) is searched with the tables instead.
   */
  private scanHeld(): void {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (this.pending.size === 0 || held.length === 0) return;
    const s = held.length === 1 ? held[0]! : Buffer.concat(held);
    const text = Buffer.from(s.buffer, s.byteOffset, s.length).toString('latin1');
    const L = HASH_PART_LENGTH;
    const runs = /[0-9a-df-np-sv-z]{32,}/g;
    let budget = SMALL_STREAM_LOOKUPS;
    for (let m = runs.exec(text); m !== null; m = runs.exec(text)) {
      const run = m[0];
      if ((budget -= run.length - L + 1) < 0) {
        this.buildTables();
        this.feed(s);
        return;
      }
      for (let i = 0; i + L <= run.length; i++) {
        this.lookups++;
        if (this.take(run.length === L ? run : run.slice(i, i + L))) return;
      }
    }
  }

  /** The candidates found so far, sorted. */
  result(): string[] {
    if (this.held.length > 0) this.scanHeld();
    return [...this.found].sort();
  }
}

/** Scans a whole buffer at once (tests, small files). */
export function scanForReferences(data: Uint8Array, candidates: Iterable<string>): string[] {
  const s = new ReferenceScanner(candidates);
  s.update(data);
  return s.result();
}
