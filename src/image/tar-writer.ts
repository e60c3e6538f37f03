// image/tar-writer: a deterministic, streaming tar writer. It writes ustar headers (PAX extended
// headers only where ustar cannot hold a value: names or link targets over 100 bytes, sizes of
// 8 GiB and more, ids over 2097151), file contents read straight from disk into one large buffer,
// and the end-of-archive blocks padded to a 10240-byte record, as GNU tar and Python's tarfile
// do. While writing it computes the sha256 and size of the uncompressed stream (the diffID when
// the tar is a layer). Output goes to a ByteSink: a file descriptor, or gzip/zstd in front of one.
// It never sorts, invents or reads metadata itself (the caller passes names, modes, owners and
// mtime: see layer.ts), never follows symlinks, never reads the clock and never writes to stdout.

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync, fstatSync, write as fsWrite } from 'node:fs';
import { createGzip } from 'node:zlib';
import { execa } from 'execa';
import { ImgError } from '../base/error.js';

/** Receives bytes in order. The writer reuses `chunk`'s memory once write returns (or its promise settles). */
export interface ByteSink {
  write(chunk: Buffer): void | Promise<void>;
  /** Flushes and finishes the sink (compressors); does not close a caller's descriptor. */
  end?(): void | Promise<void>;
}

export interface TarOwner {
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
}

/** The content of a regular file: a file on disk (binary-string path) or bytes in memory. */
export type FileSource = { readonly path: string } | { readonly data: Uint8Array };

interface EntryBase {
  /** Member name as a binary (latin1) string, without leading `/` or `./`; directories end with `/`. */
  readonly name: string;
  /** Permission bits (and setuid/setgid/sticky), e.g. 0o555. */
  readonly mode: number;
  readonly mtime: number;
  readonly owner: TarOwner;
}
export type TarEntry =
  | (EntryBase & { readonly type: 'directory' })
  | (EntryBase & { readonly type: 'file'; readonly size: number; readonly source: FileSource })
  | (EntryBase & { readonly type: 'symlink'; readonly target: string })
  /** A hard link to an earlier member (`target` = its name); only for callers that need one. */
  | (EntryBase & { readonly type: 'hardlink'; readonly target: string });

export interface TarResult {
  /** `sha256:<hex>` of the uncompressed tar stream. */
  readonly diffID: string;
  /** Bytes of the uncompressed tar stream. */
  readonly size: number;
}

const BLOCK = 512;
const RECORD = 10240;
const MAX_OCTAL_11 = 0o77777777777; // 8 GiB - 1
const MAX_OCTAL_7 = 0o7777777;
const DEFAULT_BUFFER = 4 << 20;

function roundUp(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** PAX records an entry needs (empty when plain ustar can hold it). */
// Which values need PAX records, and in which order, follows Python's tarfile (PAX_FORMAT), the
// writer of nixpkgs' streamLayeredImage: non-ASCII or too long path/linkpath/uname/gname, then
// out-of-range uid/gid/size. The PAX header itself has mode 0, owner 0, mtime 0, as there.
const nonAscii = (s: string) => /[^\x00-\x7f]/.test(s);
function paxRecords(e: TarEntry): [string, string][] {
  const recs: [string, string][] = [];
  const link = e.type === 'symlink' || e.type === 'hardlink' ? e.target : '';
  if (nonAscii(e.name) || e.name.length > 100) recs.push(['path', e.name]);
  if (nonAscii(link) || link.length > 100) recs.push(['linkpath', link]);
  if (nonAscii(e.owner.uname) || e.owner.uname.length > 32) recs.push(['uname', e.owner.uname]);
  if (nonAscii(e.owner.gname) || e.owner.gname.length > 32) recs.push(['gname', e.owner.gname]);
  if (e.owner.uid > MAX_OCTAL_7) recs.push(['uid', String(e.owner.uid)]);
  if (e.owner.gid > MAX_OCTAL_7) recs.push(['gid', String(e.owner.gid)]);
  if (e.type === 'file' && e.size > MAX_OCTAL_11) recs.push(['size', String(e.size)]);
  return recs;
}

/** `"<len> key=value\n"` where len counts the whole record (bytes; strings are binary). */
function paxBody(recs: [string, string][]): Buffer {
  let s = '';
  for (const [k, v] of recs) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (String(len).length + rest.length > len) len++;
    s += String(len) + rest;
  }
  return Buffer.from(s, 'latin1');
}

/** Bytes the entry occupies in the archive (headers + padded content). */
export function entryTarSize(e: TarEntry): number {
  let n = BLOCK;
  const recs = paxRecords(e);
  if (recs.length) n += BLOCK + roundUp(paxBody(recs).length);
  if (e.type === 'file') n += roundUp(e.size);
  return n;
}

/** Size of a whole archive holding `entries` (end blocks and record padding included). */
export function tarSize(entries: Iterable<TarEntry>): number {
  let n = 0;
  for (const e of entries) n += entryTarSize(e);
  return Math.ceil((n + 2 * BLOCK) / RECORD) * RECORD;
}

/** A ustar text field: non-ASCII characters (of the UTF-8 text) become '?', then truncated (as tarfile does). */
function writeString(buf: Buffer, off: number, len: number, s: string): void {
  if (nonAscii(s)) s = Buffer.from(s, 'latin1').toString('utf8').replace(/[^\x00-\x7f]/gu, '?');
  buf.write(s.length > len ? s.slice(0, len) : s, off, len, 'latin1');
}
function writeOctal(buf: Buffer, off: number, len: number, n: number): void {
  // len-1 octal digits, then NUL (ustar); values too big were moved to PAX, write 0 then.
  const digits = len - 1;
  let s = n.toString(8);
  if (s.length > digits) s = '0';
  buf.write(s.padStart(digits, '0'), off, digits, 'latin1');
  buf[off + digits] = 0;
}

/** Fills a 512-byte ustar header at buf[off..]. */
function fillHeader(
  buf: Buffer,
  off: number,
  h: { name: string; mode: number; uid: number; gid: number; size: number; mtime: number; type: string; link: string; uname: string; gname: string },
): void {
  buf.fill(0, off, off + BLOCK);
  writeString(buf, off, 100, h.name);
  writeOctal(buf, off + 100, 8, h.mode);
  writeOctal(buf, off + 108, 8, h.uid);
  writeOctal(buf, off + 116, 8, h.gid);
  writeOctal(buf, off + 124, 12, h.size);
  writeOctal(buf, off + 136, 12, h.mtime);
  buf.fill(0x20, off + 148, off + 156); // checksum placeholder: spaces
  buf.write(h.type, off + 156, 1, 'latin1');
  writeString(buf, off + 157, 100, h.link);
  buf.write('ustar\u000000', off + 257, 8, 'latin1');
  writeString(buf, off + 265, 32, h.uname);
  writeString(buf, off + 297, 32, h.gname);
  // devmajor/devminor stay NUL: no device entries are written (Python's tarfile does the same)
  let sum = 0;
  for (let i = off; i < off + BLOCK; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, '0'), off + 148, 6, 'latin1');
  buf[off + 154] = 0;
  buf[off + 155] = 0x20;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', directory: '5' } as const;

/** The 512-byte ustar header of an entry that needs no PAX header (for patching a written one). */
export function headerBlock(e: TarEntry & { type: 'file' }): Buffer {
  if (paxRecords(e).length) throw new Error(`headerBlock: ${e.name} needs a PAX header`);
  const b = Buffer.alloc(BLOCK);
  fillHeader(b, 0, { name: e.name, mode: e.mode & 0o7777, uid: e.owner.uid, gid: e.owner.gid, size: e.size, mtime: e.mtime, type: '0', link: '', uname: e.owner.uname, gname: e.owner.gname });
  return b;
}

/**
 * Writes tar entries to a sink, hashing the stream as it goes. Entries are written in the order
 * given; the caller sorts them. Call `finish()` once at the end.
 */
export interface TarWriterOptions {
  /** Bytes per buffer (default 4 MiB); two buffers alternate so a slow sink overlaps with reading. */
  readonly bufferSize?: number;
  /** Compute the sha256 of the stream (default true). */
  readonly hash?: boolean;
}

export class TarWriter {
  private readonly bufs: Buffer[];
  private readonly inflight: (Promise<void> | undefined)[];
  private cur = 0;
  private buf: Buffer;
  private pos = 0;
  private readonly hash: Hash | undefined;
  private total = 0;
  private finished = false;
  private failure: unknown;

  constructor(
    private readonly sink: ByteSink,
    opts: TarWriterOptions | number = {},
  ) {
    const o = typeof opts === 'number' ? { bufferSize: opts } : opts;
    const size = Math.max(RECORD, Math.ceil((o.bufferSize ?? DEFAULT_BUFFER) / RECORD) * RECORD);
    this.bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    this.inflight = [undefined, undefined];
    this.buf = this.bufs[0]!;
    this.hash = o.hash === false ? undefined : createHash('sha256');
  }

  /** Bytes written so far (uncompressed). */
  get written(): number {
    return this.total + this.pos;
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.hash?.update(chunk);
    this.total += this.pos;
    this.pos = 0;
    const r = this.sink.write(chunk);
    if (!r) return;
    // the sink keeps the chunk until its promise settles: continue in the other buffer
    this.inflight[this.cur] = r.catch((e) => {
      this.failure ??= e;
    });
    this.cur ^= 1;
    const prev = this.inflight[this.cur];
    if (prev) {
      await prev;
      this.inflight[this.cur] = undefined;
      if (this.failure) throw this.failure;
    }
    this.buf = this.bufs[this.cur]!;
  }

  /** Waits for every write handed to the sink. */
  private async drain(): Promise<void> {
    await this.flush();
    for (let i = 0; i < this.inflight.length; i++) {
      const p = this.inflight[i];
      if (p) await p;
      this.inflight[i] = undefined;
    }
    if (this.failure) throw this.failure;
  }

  /**
   * Adds a file member whose content `produce` writes straight to the underlying sink (e.g. a
   * nested TarWriter for a layer inside an archive): exactly `e.size` bytes. Those bytes are not
   * part of this writer's hash. Returns the offset of the member's header in the stream, so a
   * seekable output can patch the header afterwards (see `headerBlock`).
   */
  async addFileFrom(e: TarEntry & { type: 'file' }, produce: (sink: ByteSink) => Promise<void>): Promise<number> {
    if (this.hash) throw new Error('TarWriter.addFileFrom needs a writer created with hash: false');
    if (paxRecords(e).length) throw new Error('TarWriter.addFileFrom: the member needs a PAX header');
    const at = this.written;
    await this.header(e, e.size);
    await this.drain();
    let n = 0;
    await produce({
      write: (chunk) => {
        n += chunk.length;
        return this.sink.write(chunk);
      },
    });
    if (n !== e.size) throw new Error(`TarWriter.addFileFrom: ${e.name} produced ${n} bytes, not ${e.size}`);
    this.total += n;
    await this.padBlock(n);
    return at;
  }

  /** Makes room for `n` (≤ buffer size) contiguous bytes. */
  private async room(n: number): Promise<void> {
    if (this.pos + n > this.buf.length) await this.flush();
  }

  private async header(e: TarEntry, size: number): Promise<void> {
    const recs = paxRecords(e);
    const link = e.type === 'symlink' || e.type === 'hardlink' ? e.target : '';
    if (recs.length) {
      const body = paxBody(recs);
      await this.room(BLOCK);
      fillHeader(this.buf, this.pos, {
        name: '././@PaxHeader', mode: 0, uid: 0, gid: 0, size: body.length, mtime: 0, type: 'x', link: '', uname: '', gname: '',
      });
      this.pos += BLOCK;
      await this.writeBytes(body);
    }
    await this.room(BLOCK);
    fillHeader(this.buf, this.pos, {
      name: e.name,
      mode: e.mode & 0o7777,
      uid: e.owner.uid,
      gid: e.owner.gid,
      size,
      mtime: e.mtime,
      type: TYPEFLAG[e.type],
      link,
      uname: e.owner.uname,
      gname: e.owner.gname,
    });
    this.pos += BLOCK;
  }

  /** Copies bytes into the stream and pads them to a block. */
  private async writeBytes(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.pos === this.buf.length) await this.flush();
      const n = Math.min(data.length - off, this.buf.length - this.pos);
      this.buf.set(data.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
    }
    await this.padBlock(data.length);
  }

  private async padBlock(size: number): Promise<void> {
    const rest = (BLOCK - (size % BLOCK)) % BLOCK;
    if (rest) {
      await this.room(rest);
      this.buf.fill(0, this.pos, this.pos + rest);
      this.pos += rest;
    }
  }

  /** Streams `size` bytes of a file on disk straight into the buffer. */
  private async copyFile(path: string, size: number, name: string): Promise<void> {
    const fd = openSync(Buffer.from(path, 'latin1'), 'r');
    try {
      let left = size;
      while (left > 0) {
        if (this.pos === this.buf.length) await this.flush();
        const want = Math.min(left, this.buf.length - this.pos);
        const n = readSync(fd, this.buf, this.pos, want, null);
        if (n === 0) throw new ImgError('E_IMAGE', `file '${latin1ToUtf8(path)}' shrank while it was written as '${latin1ToUtf8(name)}'`);
        this.pos += n;
        left -= n;
      }
      if (fstatSync(fd).size !== size) {
        throw new ImgError('E_IMAGE', `file '${latin1ToUtf8(path)}' changed size while it was written as '${latin1ToUtf8(name)}'`);
      }
    } finally {
      closeSync(fd);
    }
    await this.padBlock(size);
  }

  async add(e: TarEntry): Promise<void> {
    if (this.finished) throw new Error('TarWriter.add after finish');
    if (e.type === 'file') {
      await this.header(e, e.size);
      if ('data' in e.source) {
        if (e.source.data.length !== e.size) throw new Error(`tar entry ${e.name}: size ${e.size} != data length ${e.source.data.length}`);
        await this.writeBytes(e.source.data);
      } else {
        await this.copyFile(e.source.path, e.size, e.name);
      }
    } else {
      await this.header(e, 0);
    }
  }

  /**
   * Writes raw, already-formatted bytes of an entry's content (for callers that stream a member
   * whose header they wrote with `addFileHeader`). Padding is added by `endContent`.
   */
  async addFileHeader(e: TarEntry & { type: 'file' }): Promise<void> {
    await this.header(e, e.size);
  }
  async writeContent(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.pos === this.buf.length) await this.flush();
      const n = Math.min(data.length - off, this.buf.length - this.pos);
      this.buf.set(data.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
    }
  }
  async endContent(size: number): Promise<void> {
    await this.padBlock(size);
  }

  /** Writes the end-of-archive blocks and record padding, flushes and ends the sink. */
  async finish(): Promise<TarResult> {
    if (this.finished) throw new Error('TarWriter.finish called twice');
    this.finished = true;
    const size = this.written;
    const end = Math.ceil((size + 2 * BLOCK) / RECORD) * RECORD - size;
    let left = end;
    while (left > 0) {
      if (this.pos === this.buf.length) await this.flush();
      const n = Math.min(left, this.buf.length - this.pos);
      this.buf.fill(0, this.pos, this.pos + n);
      this.pos += n;
      left -= n;
    }
    await this.drain();
    if (this.sink.end) await this.sink.end();
    return { diffID: this.hash ? `sha256:${this.hash.digest('hex')}` : '', size: this.total };
  }
}

export function latin1ToUtf8(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

// ---------- sinks ----------

/** Writes to an open file descriptor (synchronously; the caller opens and closes it). */
export function fdSink(fd: number): ByteSink {
  return {
    write(chunk) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    },
  };
}

/**
 * Writes to an open file descriptor asynchronously (libuv thread pool) at increasing offsets from
 * `start`, so writing overlaps with reading and hashing; `write` resolves when the chunk is written.
 */
export function asyncFdSink(fd: number, start = 0): ByteSink {
  let at = start;
  return {
    write(chunk) {
      const pos = at;
      at += chunk.length;
      return new Promise<void>((res, rej) => {
        const go = (off: number) =>
          fsWrite(fd, chunk, off, chunk.length - off, pos + off, (err, n) => {
            if (err) rej(err);
            else if (off + n < chunk.length) go(off + n);
            else res();
          });
        go(0);
      });
    },
  };
}

/** Passes bytes on while counting them and computing their sha256 (the blob digest). */
export class DigestSink implements ByteSink {
  private readonly hash = createHash('sha256');
  size = 0;
  private result: string | undefined;
  constructor(private readonly inner: ByteSink) {}
  write(chunk: Buffer): void | Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    return this.inner.write(chunk);
  }
  end(): void | Promise<void> {
    return this.inner.end?.();
  }
  /** `sha256:<hex>`; call once everything was written. */
  get digest(): string {
    this.result ??= `sha256:${this.hash.digest('hex')}`;
    return this.result;
  }
}

export type Compression = 'none' | 'gzip' | 'zstd';

/**
 * gzip in front of `inner`: no file name, no timestamp (Node's gzip header has mtime 0), fixed
 * level, so the output depends only on the input and zlib's version.
 */
export function gzipSink(inner: ByteSink, level = 6): ByteSink {
  const z = createGzip({ level, chunkSize: 1 << 20 });
  let pending: Promise<void> = Promise.resolve();
  let failed: unknown;
  z.on('data', (b: Buffer) => {
    pending = pending.then(() => inner.write(b));
    pending.catch((e) => (failed = e));
  });
  const done = new Promise<void>((res, rej) => {
    z.on('end', res);
    z.on('error', rej);
  });
  return {
    write(chunk) {
      if (failed) throw failed;
      return new Promise<void>((res, rej) => z.write(chunk, (err) => (err ? rej(err) : res())));
    },
    async end() {
      z.end();
      await done;
      await pending;
      if (failed) throw failed;
      await inner.end?.();
    },
  };
}

/**
 * zstd in front of `inner`, through the `zstd` program (Node 20's zlib has no zstd). Fails with
 * a clear ImgError when `zstd` is not installed.
 */
export function zstdSink(inner: ByteSink, level = 3): ByteSink {
  const proc = execa('zstd', ['-q', '-c', `-${level}`, '-T0', '--no-progress'], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    encoding: 'buffer',
    reject: false,
  });
  let pending: Promise<void> = Promise.resolve();
  let failed: unknown;
  proc.stdout!.on('data', (b: Buffer) => {
    pending = pending.then(() => inner.write(b));
    pending.catch((e) => (failed = e));
  });
  // execa with reject: false always resolves; a write error is explained by the process result
  const result = proc.then((r) => r);
  const explain = async (err: unknown): Promise<ImgError> => {
    const r = await result;
    return zstdError(r.failed ? r : err);
  };
  return {
    write(chunk) {
      if (failed) throw failed;
      return new Promise<void>((res, rej) =>
        proc.stdin!.write(Buffer.from(chunk), (err) => (err ? void explain(err).then(rej) : res())),
      );
    },
    async end() {
      proc.stdin!.end();
      const r = await result;
      await pending;
      if (failed) throw failed;
      if (r.failed) throw zstdError(r);
      await inner.end?.();
    },
  };
}

function zstdError(e: unknown): ImgError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT' || /\bENOENT\b/.test(String((e as Error).message ?? ''))) {
    return new ImgError('E_IMAGE', "compressor 'zstd' needs the 'zstd' program, which is not installed");
  }
  const stderr = (e as { stderr?: Buffer }).stderr;
  return new ImgError('E_IMAGE', `zstd failed: ${stderr ? String(stderr).trim() : String((e as Error).message ?? e)}`);
}

/** A sink for `compression` in front of `inner`. */
export function compressSink(inner: ByteSink, compression: Compression): ByteSink {
  if (compression === 'gzip') return gzipSink(inner);
  if (compression === 'zstd') return zstdSink(inner);
  return inner;
}

/**
 * Opens `path` for writing (truncating), runs `write` with a sink for it (compressed as asked)
 * and returns the size of the bytes that reached the file and, when compressed, their digest
 * (uncompressed output is not hashed twice: its digest is the TarWriter's).
 */
export async function withFileSink<T>(
  path: string,
  compression: Compression,
  write: (sink: ByteSink) => Promise<T>,
): Promise<{ result: T; digest: string | undefined; size: number }> {
  const fd = openSync(path, 'w', 0o644);
  try {
    if (compression === 'none') {
      const raw = asyncFdSink(fd);
      let size = 0;
      const result = await write({
        write(c) {
          size += c.length;
          return raw.write(c);
        },
      });
      return { result, digest: undefined, size };
    }
    const file = new DigestSink(asyncFdSink(fd));
    const result = await write(compressSink(file, compression));
    return { result, digest: file.digest, size: file.size };
  } finally {
    closeSync(fd);
  }
}
