// derivation/nar: the Nix ARchive (NAR) serialisation of a file system tree, its narHash and
// narSize, in-memory NARs of single files and small trees, and a NAR parser (for reading back).
// It never touches the file system itself: trees are read through an `FsReader` that the caller
// passes in (src/store/fs-reader.ts has the node:fs one), so this stays pure and testable.
//
// Format (Nix 2.8 archive.cc): every token is a string = u64 LE length, bytes, zero padding to 8.
//   nar  = "nix-archive-1" node
//   node = "(" "type" ( "regular" ["executable" ""] "contents" <bytes>
//                     | "symlink" "target" <target>
//                     | "directory" { "entry" "(" "name" <name> "node" node ")" } ) ")"
// Directory entries are sorted by their raw name bytes; only the owner-execute bit is kept.

import { createHash } from 'node:crypto';
import { ImgError } from '../base/error.js';

export type FsEntryType = 'regular' | 'directory' | 'symlink' | 'other';

/** Synchronous, streaming read access to a file system tree (implemented in store/fs-reader.ts). */
export interface FsReader<P = string> {
  /** Does not follow symlinks. `executable` = the owner-execute bit (S_IXUSR). */
  lstat(path: P): { type: FsEntryType; executable: boolean; size: number };
  /** Entry names of a directory as raw bytes, any order, without `.` and `..`. */
  readdir(path: P): Buffer[];
  /** The raw bytes of a symlink's target. */
  readlink(path: P): Buffer;
  /**
   * Calls onChunk with the file's bytes in order. A chunk is only valid during the call (the
   * reader may reuse its buffer); copy it to keep it.
   */
  readFile(path: P, onChunk: (chunk: Uint8Array) => void): void;
  join(dir: P, name: Buffer): P;
}

/** Receives NAR bytes in order. A chunk is only valid during the call: copy it to keep it. */
export type NarSink = (chunk: Uint8Array) => void;

export type FsStat = ReturnType<FsReader['lstat']>;

/**
 * Decides whether a directory entry (never the root) goes into the NAR, as the filter of
 * `builtins.path`/`filterSource` does (Nix's PathFilter). Called in sorted name order with the
 * entry's path and lstat result; an excluded directory is not descended into.
 */
export type NarFilter<P> = (path: P, st: FsStat) => boolean;

const PAD = new Uint8Array(8);
const SMALL = 64 * 1024;

/** Buffers the small tokens of a NAR and passes big file contents through without copying. */
class NarWriter {
  private buf = Buffer.allocUnsafe(SMALL);
  private pos = 0;
  constructor(private readonly sink: NarSink) {}

  flush(): void {
    if (this.pos > 0) {
      this.sink(this.buf.subarray(0, this.pos));
      this.pos = 0;
    }
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
  }

  u64(n: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(n >>> 0, this.pos);
    this.buf.writeUInt32LE(Math.floor(n / 0x100000000), this.pos + 4);
    this.pos += 8;
  }

  /** A whole token (length, bytes, padding). `s` is an ASCII keyword or raw bytes. */
  str(s: string | Uint8Array): void {
    const len = typeof s === 'string' ? s.length : s.length;
    this.u64(len);
    const padded = len + ((8 - (len % 8)) % 8);
    if (padded > SMALL) {
      this.flush();
      const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
      this.sink(b);
      this.pad(len);
      return;
    }
    this.ensure(padded);
    if (typeof s === 'string') this.buf.write(s, this.pos, 'latin1');
    else this.buf.set(s, this.pos);
    this.buf.fill(0, this.pos + len, this.pos + padded);
    this.pos += padded;
  }

  /** Raw bytes of a file's contents (the length was written already). */
  raw(chunk: Uint8Array): void {
    if (chunk.length <= 4096) {
      this.ensure(chunk.length);
      this.buf.set(chunk, this.pos);
      this.pos += chunk.length;
    } else {
      this.flush();
      this.sink(chunk);
    }
  }

  pad(len: number): void {
    const p = (8 - (len % 8)) % 8;
    if (p) {
      this.ensure(p);
      this.buf.set(PAD.subarray(0, p), this.pos);
      this.pos += p;
    }
  }
}

function compareBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

function dumpNode<P>(fs: FsReader<P>, path: P, st: FsStat, w: NarWriter, shown: () => string, filter?: NarFilter<P>): void {
  w.str('(');
  w.str('type');
  switch (st.type) {
    case 'regular': {
      w.str('regular');
      if (st.executable) {
        w.str('executable');
        w.str('');
      }
      w.str('contents');
      w.u64(st.size);
      let n = 0;
      fs.readFile(path, (chunk) => {
        n += chunk.length;
        if (n > st.size) return;
        w.raw(chunk);
      });
      if (n !== st.size) {
        throw new ImgError('E_IO', `file '${shown()}' changed size while being archived (${st.size} → ${n} bytes)`);
      }
      w.pad(st.size);
      break;
    }
    case 'symlink':
      w.str('symlink');
      w.str('target');
      w.str(fs.readlink(path));
      break;
    case 'directory': {
      w.str('directory');
      const names = fs.readdir(path).sort(compareBytes);
      for (const name of names) {
        const child = fs.join(path, name);
        const cst = fs.lstat(child);
        if (filter && !filter(child, cst)) continue;
        w.str('entry');
        w.str('(');
        w.str('name');
        w.str(name);
        w.str('node');
        dumpNode(fs, child, cst, w, () => `${shown()}/${name.toString('utf8')}`, filter);
        w.str(')');
      }
      break;
    }
    default:
      throw new ImgError('E_IO', `file '${shown()}' has an unsupported type`);
  }
  w.str(')');
}

/** Streams the NAR serialisation of the tree at `path` into `sink` (Nix's dumpPath). */
export function writeNar<P>(fs: FsReader<P>, path: P, sink: NarSink, filter?: NarFilter<P>): void {
  const w = new NarWriter(sink);
  w.str('nix-archive-1');
  dumpNode(fs, path, fs.lstat(path), w, () => String(path), filter);
  w.flush();
}

export interface NarInfo {
  /** sha256 of the NAR bytes. */
  narHash: Buffer;
  narSize: number;
}

/** The sha256 and size of the NAR of the tree at `path` (what `nix-store --dump | sha256sum` gives). */
export function narHash<P>(fs: FsReader<P>, path: P, filter?: NarFilter<P>): NarInfo {
  const h = createHash('sha256');
  let size = 0;
  writeNar(
    fs,
    path,
    (c) => {
      h.update(c);
      size += c.length;
    },
    filter,
  );
  return { narHash: h.digest(), narSize: size };
}

// ---------------------------------------------------------------------------------------------
// In-memory trees

/** A file system tree held in memory (names are raw byte strings in `latin1` JS strings). */
export type NarNode =
  | { type: 'regular'; contents: Uint8Array; executable?: boolean }
  | { type: 'symlink'; target: string | Uint8Array }
  | { type: 'directory'; entries: Map<string, NarNode> | Record<string, NarNode> };

function bytesOf(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
}

function entriesOf(n: NarNode & { type: 'directory' }): [string, NarNode][] {
  return n.entries instanceof Map ? [...n.entries] : Object.entries(n.entries);
}

/** An FsReader over an in-memory tree; paths are lists of names joined by '/' below the root ''. */
export function memoryFsReader(root: NarNode): FsReader<NarNode[]> {
  // A path is the chain of nodes from the root; this makes lookups free and names unambiguous.
  return {
    lstat(path) {
      const n = path[path.length - 1]!;
      if (n.type === 'regular') return { type: 'regular', executable: !!n.executable, size: n.contents.length };
      return { type: n.type, executable: false, size: 0 };
    },
    readdir(path) {
      const n = path[path.length - 1]!;
      if (n.type !== 'directory') throw new Error('memoryFsReader: not a directory');
      return entriesOf(n).map(([k]) => Buffer.from(k, 'latin1'));
    },
    readlink(path) {
      const n = path[path.length - 1]!;
      if (n.type !== 'symlink') throw new Error('memoryFsReader: not a symlink');
      return Buffer.from(bytesOf(n.target));
    },
    readFile(path, onChunk) {
      const n = path[path.length - 1]!;
      if (n.type !== 'regular') throw new Error('memoryFsReader: not a regular file');
      onChunk(n.contents);
    },
    join(dir, name) {
      const n = dir[dir.length - 1]!;
      if (n.type !== 'directory') throw new Error('memoryFsReader: not a directory');
      const key = name.toString('latin1');
      const child = n.entries instanceof Map ? n.entries.get(key) : n.entries[key];
      if (!child) throw new Error(`memoryFsReader: no entry '${key}'`);
      return [...dir, child];
    },
  };
}

/** The NAR of an in-memory tree, as one Buffer. */
/** The bytes `w` writes, as one Buffer. */
function narBytes(write: (w: NarWriter) => void): Buffer {
  const chunks: Buffer[] = [];
  const w = new NarWriter((c) => chunks.push(Buffer.from(c)));
  write(w);
  w.flush();
  return Buffer.concat(chunks);
}

/**
 * The NAR bytes before a regular file's contents (`nix-archive-1 ( type regular [executable ""]
 * contents <len>`), for hashing a file's NAR while its contents are produced: the length comes
 * first, so it must be known before the first byte. NAR = head + contents + narFileTail.
 */
export function narFileHead(fileSize: number, executable: boolean): Buffer {
  return narBytes((w) => {
    w.str('nix-archive-1');
    w.str('(');
    w.str('type');
    w.str('regular');
    if (executable) {
      w.str('executable');
      w.str('');
    }
    w.str('contents');
    w.u64(fileSize);
  });
}

/** The NAR bytes after a regular file's contents: the padding to 8, then `)`. */
export function narFileTail(fileSize: number): Buffer {
  return narBytes((w) => {
    w.pad(fileSize);
    w.str(')');
  });
}

export function narOfTree(root: NarNode): Buffer {
  const chunks: Buffer[] = [];
  writeNar(memoryFsReader(root), [root], (c) => chunks.push(Buffer.from(c)));
  return Buffer.concat(chunks);
}

/** The NAR of a single regular file with the given contents (`nix-store --dump file`). */
export function narOfFile(contents: string | Uint8Array, executable = false): Buffer {
  return narOfTree({ type: 'regular', contents: bytesOf(contents), executable });
}

/** narHash/narSize of an in-memory tree. */
export function narHashOfTree(root: NarNode): NarInfo {
  return narHash(memoryFsReader(root), [root]);
}

/** narHash/narSize of a single regular file (e.g. what `builtins.toFile` registers). */
export function narHashOfFile(contents: string | Uint8Array, executable = false): NarInfo {
  return narHashOfTree({ type: 'regular', contents: bytesOf(contents), executable });
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** What a NAR parser reports, in order (Nix's ParseSink). Names and targets are raw bytes. */
export interface NarVisitor {
  createDirectory(path: Buffer[]): void;
  /** A regular file; contents arrive via `contents` calls before the next event. */
  createRegularFile(path: Buffer[], executable: boolean, size: number): void;
  contents(chunk: Uint8Array): void;
  createSymlink(path: Buffer[], target: Buffer): void;
}

function narError(msg: string): ImgError {
  return new ImgError('E_ARCHIVE', `bad archive: ${msg}`);
}

/**
 * Parses a NAR held in memory and reports its nodes to `visitor` (path = list of entry names
 * from the root; [] is the root). Checks the grammar, entry order (strictly increasing names),
 * names (no '', '.', '..', '/', NUL) and padding. Returns the number of bytes consumed.
 */
export function parseNar(nar: Uint8Array, visitor: NarVisitor): number {
  const b = Buffer.from(nar.buffer, nar.byteOffset, nar.byteLength);
  let pos = 0;
  const readLen = (): number => {
    if (pos + 8 > b.length) throw narError('unexpected end of archive');
    const lo = b.readUInt32LE(pos);
    const hi = b.readUInt32LE(pos + 4);
    pos += 8;
    const n = hi * 0x100000000 + lo;
    if (n > b.length - pos) throw narError('unexpected end of archive');
    return n;
  };
  const readBytes = (): Buffer => {
    const n = readLen();
    const s = b.subarray(pos, pos + n);
    pos += n;
    const p = (8 - (n % 8)) % 8;
    if (pos + p > b.length) throw narError('unexpected end of archive');
    for (let i = 0; i < p; i++) if (b[pos + i] !== 0) throw narError('non-zero padding');
    pos += p;
    return s;
  };
  const readStr = (): string => readBytes().toString('latin1');
  const expect = (s: string): void => {
    const t = readStr();
    if (t !== s) throw narError(`expected '${s}', got '${t}'`);
  };
  if (readStr() !== 'nix-archive-1') throw narError('input is not a Nix archive');
  const node = (path: Buffer[]): void => {
    expect('(');
    expect('type');
    const type = readStr();
    if (type === 'regular') {
      let t = readStr();
      let exec = false;
      if (t === 'executable') {
        if (readBytes().length !== 0) throw narError("'executable' must be followed by an empty string");
        exec = true;
        t = readStr();
      }
      if (t !== 'contents') throw narError(`expected 'contents', got '${t}'`);
      const data = readBytes();
      visitor.createRegularFile(path, exec, data.length);
      if (data.length) visitor.contents(data);
      expect(')');
    } else if (type === 'symlink') {
      expect('target');
      visitor.createSymlink(path, readBytes());
      expect(')');
    } else if (type === 'directory') {
      visitor.createDirectory(path);
      let prev: Buffer | undefined;
      for (;;) {
        const t = readStr();
        if (t === ')') break;
        if (t !== 'entry') throw narError(`expected 'entry' or ')', got '${t}'`);
        expect('(');
        expect('name');
        const name = readBytes();
        if (name.length === 0 || name.equals(Buffer.from('.')) || name.equals(Buffer.from('..')) || name.includes(0x2f) || name.includes(0)) {
          throw narError(`NAR contains invalid file name '${name.toString('utf8')}'`);
        }
        if (prev && Buffer.compare(prev, name) >= 0) throw narError('NAR directory is not sorted');
        prev = name;
        expect('node');
        node([...path, name]);
        expect(')');
      }
    } else {
      throw narError(`unknown file type '${type}'`);
    }
  };
  node([]);
  return pos;
}
