// image/rootfs: applies image layers, bottom → top, onto a directory (for exportImage and
// mergeImages): regular files, directories, symlinks and hard links, with whiteouts (`.wh.name`
// deletes `name` from lower layers; `.wh..wh..opq` hides everything lower layers put in that
// directory, wherever the marker sits in the layer). Layers are untrusted: a member climbing out
// with `..`, a member written through a symlink, or a hard link to something outside the root or
// through a symlink is refused with an ImgError (E_ARCHIVE) naming it; nothing is ever written
// outside the root (every parent is checked with lstat, symlinks are never followed). Devices
// and FIFOs are not created (reported as skipped). Directory modes are applied at the end, so
// read-only (0555) store directories do not block later layers. No clock, no stdout.

import { chmodSync, closeSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import tar, { type Header } from 'tar-stream';

type TarStreamEntry = AsyncIterable<unknown> & { header: Header };
import { ImgError } from '../base/error.js';

export interface RootfsLayer {
  /** For messages, e.g. the member name or diffID. */
  readonly name: string;
  /** The uncompressed layer tar. */
  open(): Readable;
}

export interface RootfsOptions {
  /** Apply owners from the tar headers (lchown); default: when running as root. */
  readonly preserveOwners?: boolean;
}

export interface RootfsReport {
  /** Members not created (devices, FIFOs), as `layer: name (type)`. */
  readonly skipped: string[];
  /** Members written (all layers). */
  readonly entries: number;
}

const u = (s: string) => Buffer.from(s, 'latin1').toString('utf8');
const fsp = (s: string) => Buffer.from(s, 'latin1');

/** Layer member name → components; leading `/` and `./` are dropped, `..` is refused. */
function layerPathParts(raw: string, layer: string): string[] {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ImgError('E_ARCHIVE', `layer '${u(layer)}' has a member '${u(raw)}' that climbs out with '..'`);
  return parts;
}

class Applier {
  private readonly dirModes = new Map<string, { mode: number; mtime: number }>();
  readonly skipped: string[] = [];
  entries = 0;
  private readonly preserveOwners: boolean;

  constructor(
    private readonly root: string,
    opts: RootfsOptions,
  ) {
    this.preserveOwners = opts.preserveOwners ?? process.getuid?.() === 0;
  }

  private abs(parts: string[]): string {
    return parts.length ? `${this.root}/${parts.join('/')}` : this.root;
  }

  /** Makes sure every parent of `parts` is a real directory inside the root (never a symlink). */
  private parents(parts: string[], layer: string, raw: string): void {
    for (let i = 1; i < parts.length; i++) {
      const p = this.abs(parts.slice(0, i));
      let st;
      try {
        st = lstatSync(fsp(p));
      } catch {
        mkdirSync(fsp(p), { mode: 0o755 });
        continue;
      }
      if (st.isSymbolicLink()) {
        throw new ImgError('E_ARCHIVE', `layer '${u(layer)}' has a member '${u(raw)}' that goes through the symlink '/${u(parts.slice(0, i).join('/'))}'`);
      }
      if (!st.isDirectory()) {
        rmSync(fsp(p), { force: true });
        mkdirSync(fsp(p), { mode: 0o755 });
      }
    }
  }

  private remove(p: string): void {
    rmSync(fsp(p), { recursive: true, force: true });
  }

  /** Removes everything under `dir` that this layer did not write (opaque directory). */
  private prune(dirParts: string[], written: Set<string>): void {
    const dir = this.abs(dirParts);
    let names: string[];
    try {
      names = readdirSync(fsp(dir), { encoding: 'buffer' }).map((b) => b.toString('latin1'));
    } catch {
      return;
    }
    for (const n of names) {
      const rel = [...dirParts, n].join('/');
      if (!written.has(rel)) this.remove(this.abs([...dirParts, n]));
      else if (lstatSync(fsp(this.abs([...dirParts, n]))).isDirectory()) this.prune([...dirParts, n], written);
    }
  }

  async apply(layer: RootfsLayer): Promise<void> {
    const written = new Set<string>();
    // filenameEncoding is supported by tar-stream 3 but missing from its bundled types
    const ex = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0]);
    const src = layer.open();
    src.on('error', (e) => ex.destroy(e));
    src.pipe(ex);
    try {
      for await (const entry of ex) {
        await this.entry(entry, layer.name, written);
      }
    } catch (e) {
      if (e instanceof ImgError) throw e;
      throw new ImgError('E_ARCHIVE', `layer '${u(layer.name)}' could not be read: ${(e as Error).message}`);
    }
  }

  private async entry(entry: TarStreamEntry, layer: string, written: Set<string>): Promise<void> {
    const h = entry.header;
    const raw = h.name;
    const parts = layerPathParts(raw, layer);
    const drain = async () => {
      for await (const _ of entry) void _;
    };
    if (parts.length === 0) {
      await drain();
      return;
    }
    const base = parts[parts.length - 1]!;
    const dirParts = parts.slice(0, -1);
    this.parents(parts, layer, raw);
    for (let i = 1; i < parts.length; i++) written.add(parts.slice(0, i).join('/'));
    if (base === '.wh..wh..opq') {
      await drain();
      this.prune(dirParts, written);
      return;
    }
    if (base.startsWith('.wh.')) {
      await drain();
      const victim = [...dirParts, base.slice(4)];
      if (!written.has(victim.join('/'))) this.remove(this.abs(victim));
      return;
    }
    const rel = parts.join('/');
    const path = this.abs(parts);
    let existing;
    try {
      existing = lstatSync(fsp(path));
    } catch {
      existing = undefined;
    }
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ? h.mtime.getTime() / 1000 : 0;
    switch (h.type) {
      case 'directory': {
        if (existing && !existing.isDirectory()) this.remove(path);
        if (!existing || !existing.isDirectory()) mkdirSync(fsp(path), { mode: 0o755 });
        else chmodSync(fsp(path), 0o755);
        this.dirModes.set(path, { mode, mtime });
        await drain();
        break;
      }
      case 'file':
      case 'contiguous-file': {
        if (existing) this.remove(path);
        const fd = openSync(fsp(path), 'wx', 0o600);
        try {
          for await (const chunk of entry) {
            const b = chunk as Buffer;
            let off = 0;
            while (off < b.length) off += writeSync(fd, b, off, b.length - off);
          }
        } finally {
          closeSync(fd);
        }
        chmodSync(fsp(path), mode);
        utimesSync(fsp(path), mtime, mtime);
        break;
      }
      case 'symlink': {
        await drain();
        if (existing) this.remove(path);
        symlinkSync(fsp(h.linkname ?? ''), fsp(path));
        lutimesSync(fsp(path), mtime, mtime);
        break;
      }
      case 'link': {
        await drain();
        const tparts = layerPathParts(h.linkname ?? '', layer);
        for (let i = 1; i <= tparts.length; i++) {
          let st;
          try {
            st = lstatSync(fsp(this.abs(tparts.slice(0, i))));
          } catch {
            throw new ImgError('E_ARCHIVE', `layer '${u(layer)}' has a hard link '${u(raw)}' to '${u(h.linkname ?? '')}', which does not exist`);
          }
          if (st.isSymbolicLink() || (i < tparts.length && !st.isDirectory()) || (i === tparts.length && !st.isFile())) {
            throw new ImgError('E_ARCHIVE', `layer '${u(layer)}' has a hard link '${u(raw)}' to '${u(h.linkname ?? '')}', which is not a regular file inside the root`);
          }
        }
        if (existing) this.remove(path);
        linkSync(fsp(this.abs(tparts)), fsp(path));
        break;
      }
      default:
        await drain();
        this.skipped.push(`${u(layer)}: ${u(raw)} (${h.type})`);
        return;
    }
    if (this.preserveOwners) lchownSync(fsp(path), h.uid ?? 0, h.gid ?? 0);
    written.add(rel);
    this.entries++;
  }

  /** Directory modes and mtimes, deepest first. */
  finish(): void {
    const dirs = [...this.dirModes.entries()].sort((a, b) => b[0].length - a[0].length);
    for (const [p, { mode, mtime }] of dirs) {
      try {
        chmodSync(fsp(p), mode);
        utimesSync(fsp(p), mtime, mtime);
      } catch {
        // removed by a later whiteout
      }
    }
  }
}

/** Applies `layers` in order onto the directory `root` (created if missing). Root paths are binary strings. */
export async function applyLayers(root: string, layers: readonly RootfsLayer[], opts: RootfsOptions = {}): Promise<RootfsReport> {
  mkdirSync(fsp(root), { recursive: true });
  const a = new Applier(root.replace(/\/+$/, ''), opts);
  for (const l of layers) await a.apply(l);
  a.finish();
  return { skipped: a.skipped, entries: a.entries };
}

/**
 * The member names of a layer (normalised: no leading `/` or `./`, no trailing `/`), in order:
 * what buildImage needs to know which store paths a base image already has.
 */
export async function listLayerNames(layer: RootfsLayer): Promise<string[]> {
  const ex = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0]);
  const src = layer.open();
  src.on('error', (e) => ex.destroy(e));
  src.pipe(ex);
  const names: string[] = [];
  try {
    for await (const entry of ex) {
      const parts = layerPathParts((entry as TarStreamEntry).header.name, layer.name);
      if (parts.length) names.push(parts.join('/'));
      for await (const _ of entry as TarStreamEntry) void _;
    }
  } catch (e) {
    if (e instanceof ImgError) throw e;
    throw new ImgError('E_ARCHIVE', `layer '${u(layer.name)}' could not be read: ${(e as Error).message}`);
  }
  return names;
}
