// image/tar-reader: indexes an uncompressed tar file on disk (member name → type, data offset,
// size, link target) by reading headers only, so members can then be read at random. It
// understands ustar (with prefix), PAX (`path`, `linkpath`, `size`) and GNU long names, checks
// header checksums, and treats the archive as untrusted data: a member whose name is absolute
// or climbs out with `..`, a symlink whose target leaves the archive, or a hard link to a name
// outside it is refused with an ImgError (E_ARCHIVE) naming the member; a truncated or corrupt
// archive gives an E_ARCHIVE error too. It never extracts anything and never writes.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { ImgError } from '../base/error.js';

export type MemberType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarMember {
  /** Normalised name: no leading `./` or `/`, no trailing `/` (binary string). */
  readonly name: string;
  readonly type: MemberType;
  /** Offset of the member's data in the file. */
  readonly offset: number;
  readonly size: number;
  /** Symlink target (as stored) or hard-link target (normalised). */
  readonly target?: string;
}

export interface TarIndex {
  readonly path: string;
  /** Members by normalised name (a later member with the same name replaces an earlier one). */
  readonly members: ReadonlyMap<string, TarMember>;
  /** Member names in archive order (first occurrence). */
  readonly order: readonly string[];
}

const u = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('latin1', off, end < 0 || end > off + len ? off + len : end);
}

function parseNumber(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    // base-256 (GNU): big-endian, first byte's high bit is the marker
    let n = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + b[off + i]!;
    return n;
  }
  const s = cstr(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

function checksumOk(b: Buffer): boolean {
  const want = parseNumber(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

function parsePax(body: Buffer, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(body.toString('latin1', i, sp), 10);
    if (!(len > 0) || i + len > body.length) throw new ImgError('E_ARCHIVE', `corrupt PAX header in ${where}`);
    const rec = body.toString('latin1', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/**
 * A member name made safe: strips `./` and a trailing `/`; refuses absolute names and `..`.
 * Returns '' for the archive root itself (`./`).
 */
export function normaliseMemberName(raw: string, archive: string): string {
  if (raw.startsWith('/')) {
    throw new ImgError('E_ARCHIVE', `archive '${u(archive)}' has a member with an absolute name '${u(raw)}'`);
  }
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new ImgError('E_ARCHIVE', `archive '${u(archive)}' has a member '${u(raw)}' that climbs out with '..'`);
  }
  return parts.join('/');
}

/** Resolves a symlink member's target against its directory; refuses targets leaving the archive. */
function symlinkTargetInside(name: string, target: string, archive: string): string {
  if (target.startsWith('/')) {
    throw new ImgError('E_ARCHIVE', `archive '${u(archive)}' has a symlink '${u(name)}' to the absolute path '${u(target)}'`);
  }
  const joined = posix.normalize(posix.join(posix.dirname(name), target));
  if (joined === '..' || joined.startsWith('../')) {
    throw new ImgError('E_ARCHIVE', `archive '${u(archive)}' has a symlink '${u(name)}' pointing outside it ('${u(target)}')`);
  }
  return joined === '.' ? '' : joined;
}

/** Reads the headers of the tar file at `path`. */
export function indexTar(path: string, displayName = path): TarIndex {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const members = new Map<string, TarMember>();
    const order: string[] = [];
    const hdr = Buffer.alloc(512);
    let pos = 0;
    let pax: Map<string, string> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    const readAt = (buf: Buffer, at: number, len: number): number => {
      let got = 0;
      while (got < len) {
        const n = readSync(fd, buf, got, len - got, at + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    };
    const readBody = (at: number, size: number, what: string): Buffer => {
      if (at + size > fileSize) throw truncated(displayName, what, at + size - fileSize);
      if (size > 1 << 20) throw new ImgError('E_ARCHIVE', `archive '${u(displayName)}': ${what} is implausibly large (${size} bytes)`);
      const b = Buffer.alloc(size);
      readAt(b, at, size);
      return b;
    };
    for (;;) {
      const got = readAt(hdr, pos, 512);
      if (got === 0) break; // EOF at a block boundary: accept a missing end marker
      if (got < 512) throw truncated(displayName, `the header at offset ${pos}`, 512 - got);
      if (hdr.every((x) => x === 0)) break; // end of archive
      if (!checksumOk(hdr)) throw new ImgError('E_ARCHIVE', `archive '${u(displayName)}' is corrupt: bad tar header checksum at offset ${pos}`);
      const flag = String.fromCharCode(hdr[156]!);
      let size = parseNumber(hdr, 124, 12);
      if (pax?.has('size')) size = Number(pax.get('size'));
      if (!Number.isFinite(size) || size < 0) throw new ImgError('E_ARCHIVE', `archive '${u(displayName)}' is corrupt: bad size in the header at offset ${pos}`);
      const dataAt = pos + 512;
      const next = dataAt + Math.ceil(size / 512) * 512;
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        const body = readBody(dataAt, size, `the extended header at offset ${pos}`);
        if (flag === 'x') pax = parsePax(body, `'${u(displayName)}' at offset ${pos}`);
        else if (flag === 'L') longName = cstr(body, 0, body.length);
        else if (flag === 'K') longLink = cstr(body, 0, body.length);
        pos = next;
        continue;
      }
      const magic = hdr.toString('latin1', 257, 262);
      let raw = cstr(hdr, 0, 100);
      if (magic === 'ustar') {
        const prefix = cstr(hdr, 345, 155);
        if (prefix) raw = `${prefix}/${raw}`;
      }
      raw = pax?.get('path') ?? longName ?? raw;
      let link = pax?.get('linkpath') ?? longLink ?? cstr(hdr, 157, 100);
      pax = undefined;
      longName = undefined;
      longLink = undefined;
      const type: MemberType =
        flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : flag === '2' ? 'symlink' : flag === '1' ? 'hardlink' : 'other';
      const name = normaliseMemberName(raw, displayName);
      if (type === 'file' && dataAt + size > fileSize) throw truncated(displayName, `member '${u(name)}'`, dataAt + size - fileSize);
      let target: string | undefined;
      if (type === 'symlink') {
        symlinkTargetInside(name, link, displayName);
        target = link;
      } else if (type === 'hardlink') {
        if (link.startsWith('/') || link.split('/').includes('..')) {
          throw new ImgError('E_ARCHIVE', `archive '${u(displayName)}' has a hard link '${u(name)}' to '${u(link)}' outside it`);
        }
        link = normaliseMemberName(link, displayName);
        if (!members.has(link)) throw new ImgError('E_ARCHIVE', `archive '${u(displayName)}' has a hard link '${u(name)}' to '${u(link)}', which is not an earlier member`);
        target = link;
      }
      if (name !== '') {
        if (!members.has(name)) order.push(name);
        members.set(name, { name, type, offset: dataAt, size: type === 'file' ? size : 0, target });
      }
      pos = next;
    }
    return { path, members, order };
  } finally {
    closeSync(fd);
  }
}

function truncated(archive: string, what: string, missing: number): ImgError {
  return new ImgError('E_ARCHIVE', `archive '${u(archive)}' is truncated: ${what} is missing ${missing} bytes`);
}

/**
 * The regular-file member a name refers to, following symlink and hard-link members (also on
 * directory components) inside the archive. Undefined when there is none.
 */
export function lookupMember(index: TarIndex, name: string, archive = index.path): TarMember | undefined {
  let parts = normaliseMemberName(name, archive).split('/').filter(Boolean);
  for (let hops = 0; hops < 64; hops++) {
    let restarted = false;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const m = index.members.get(prefix);
      if (!m) {
        if (i === parts.length) return undefined;
        continue; // a directory without its own entry
      }
      if (m.type === 'symlink') {
        const t = symlinkTargetInside(prefix, m.target!, archive);
        parts = [...t.split('/').filter(Boolean), ...parts.slice(i)];
        restarted = true;
        break;
      }
      if (i === parts.length) {
        if (m.type === 'hardlink') {
          parts = m.target!.split('/');
          restarted = true;
          break;
        }
        return m.type === 'file' ? m : undefined;
      }
      if (m.type !== 'directory') return undefined;
    }
    if (!restarted) return undefined;
  }
  throw new ImgError('E_ARCHIVE', `archive '${u(archive)}': too many levels of symlinks resolving '${u(name)}'`);
}

/** Reads a whole (small) member into memory. */
export function readMember(index: TarIndex, m: TarMember): Buffer {
  const fd = openSync(index.path, 'r');
  try {
    const b = Buffer.alloc(m.size);
    let got = 0;
    while (got < m.size) {
      const n = readSync(fd, b, got, m.size - got, m.offset + got);
      if (n === 0) throw truncated(index.path, `member '${u(m.name)}'`, m.size - got);
      got += n;
    }
    return b;
  } finally {
    closeSync(fd);
  }
}
