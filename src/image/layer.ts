// image/layer: builds a layer's file tree in memory from sources on disk (store paths placed at
// their store location, `copyToRoot` trees merged at `/` with rsync's -k/-K dirlink rules,
// explicit directories/files/symlinks), applies fakeroot-style ownership/mode overrides, and
// writes it as a deterministic tar: entries in component-wise name order (GNU tar --sort=name),
// every parent directory present, fixed mtime and owner, hard links flattened to regular files.
// Also the small read-only `Layer` shape the image writers share.
// It never reads the clock, never writes outside the output file, never follows a symlink
// except the copyToRoot dirlink rules ask for it, and never writes to stdout.
//
// Paths here are binary strings (one char per byte, BRIEF "Nix strings are byte strings"):
// image paths like `/nix/store/…-hello/bin/hello`, and physical paths on this machine.

import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { ImgError } from '../base/error.js';
import {
  type Compression,
  type FileSource,
  type TarEntry,
  type TarOwner,
  TarWriter,
  latin1ToUtf8,
  tarSize,
  withFileSink,
} from './tar-writer.js';

export const MEDIA_TYPE_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const MEDIA_TYPE_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MEDIA_TYPE_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** A layer blob on disk. `diffID`/`size` describe the uncompressed tar; `digest`/`blobSize` the file at `path`. */
export interface Layer {
  readonly diffID: string;
  readonly size: number;
  readonly digest: string;
  readonly blobSize: number;
  readonly mediaType: string;
  readonly path: string;
}

export function mediaTypeFor(c: Compression): string {
  return c === 'gzip' ? MEDIA_TYPE_LAYER_GZIP : c === 'zstd' ? MEDIA_TYPE_LAYER_ZSTD : MEDIA_TYPE_LAYER;
}

export const ROOT_OWNER: TarOwner = Object.freeze({ uid: 0, gid: 0, uname: '', gname: '' });

/** Where a source comes from and where it lands in the image (binary-string paths). */
export type LayerSource =
  /**
   * A file system tree: `from` (physical) placed at image path `to`. With `to` = `/` its contents
   * merge into the root (copyToRoot). `from` itself may be a file or a symlink (a store path
   * that is a symlink stays one).
   */
  | {
      readonly kind: 'tree';
      readonly from: string;
      readonly to: string;
      /**
       * copyToRoot rules. `'copy'` (keepContentsDirlinks = false, rsync -k): a symlink in the
       * source that points to a directory is copied as that directory. `'keep'`
       * (keepContentsDirlinks = true, rsync -K): source symlinks stay symlinks, and a source
       * directory landing on an existing symlink to a directory merges into its target.
       * Absent: store-path semantics (symlinks verbatim; a later tree replaces earlier entries).
       */
      readonly dirlinks?: 'copy' | 'keep';
    }
  | { readonly kind: 'directory'; readonly to: string; readonly mode: number }
  | { readonly kind: 'file'; readonly to: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly kind: 'symlink'; readonly to: string; readonly target: string };

/** fakeRootCommands-style ownership/mode change applied in the tar headers. */
export interface OwnershipOverride {
  readonly path: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly mode?: number;
  /** Also apply to everything below `path`. */
  readonly recursive?: boolean;
}

export interface LayerSpec {
  readonly sources: readonly LayerSource[];
  readonly mtime: number;
  /** Default owner of every entry (default 0:0 with empty names). */
  readonly owner?: TarOwner;
  readonly overrides?: readonly OwnershipOverride[];
  /** Mode of parent directories that no source names (default 0o755). */
  readonly parentMode?: number;
  /**
   * Resolves an absolute symlink target to a physical path, for `dirlinks: 'copy'` (e.g. maps
   * `/nix/store/…` into the physical store). Unresolvable targets leave the symlink as is.
   */
  readonly resolveAbsolute?: (target: string) => string | undefined;
}

// ---------- the in-memory tree ----------

interface DirNode {
  kind: 'dir';
  mode: number;
  /** true when a source named this directory (otherwise it is an implicit parent). */
  explicit: boolean;
  children: Map<string, Node>;
}
interface FileNode {
  kind: 'file';
  mode: number;
  size: number;
  source: FileSource;
}
interface LinkNode {
  kind: 'symlink';
  target: string;
}
type Node = DirNode | FileNode | LinkNode;

/** Splits an image path into components; refuses `..` and empty names. `/` → []. */
export function imagePathParts(p: string): string[] {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  for (const x of parts) {
    if (x === '..') throw new ImgError('E_IMAGE', `image path '${latin1ToUtf8(p)}' contains '..'`);
  }
  return parts;
}

const fsPath = (p: string): Buffer => Buffer.from(p, 'latin1');

class TreeBuilder {
  readonly root: DirNode;
  constructor(private readonly spec: LayerSpec) {
    this.root = { kind: 'dir', mode: 0o755, explicit: false, children: new Map() };
  }

  private newDir(mode: number, explicit: boolean): DirNode {
    return { kind: 'dir', mode, explicit, children: new Map() };
  }

  /** The directory at `parts`, creating implicit parents (mode parentMode). */
  private dirAt(parts: string[], what: string): DirNode {
    let d = this.root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const c = d.children.get(name);
      if (!c) {
        const nd = this.newDir(this.spec.parentMode ?? 0o755, false);
        d.children.set(name, nd);
        d = nd;
      } else if (c.kind === 'dir') {
        d = c;
      } else {
        throw new ImgError('E_IMAGE', `cannot place '${latin1ToUtf8(what)}': '/${latin1ToUtf8(parts.slice(0, i + 1).join('/'))}' is a ${c.kind === 'file' ? 'file' : 'symlink'} in the layer`);
      }
    }
    return d;
  }

  add(src: LayerSource): void {
    const parts = imagePathParts(src.to);
    if (src.kind === 'tree') {
      const st = lstatOrThrow(src.from);
      if (parts.length === 0) {
        if (!st.isDirectory()) throw new ImgError('E_IMAGE', `'${latin1ToUtf8(src.from)}' is not a directory, so it cannot be merged at '/'`);
        this.root.mode = st.mode & 0o7777;
        this.mergeDir(this.root, src.from, src.dirlinks, '');
        return;
      }
      const parent = this.dirAt(parts.slice(0, -1), src.to);
      this.place(parent, parts[parts.length - 1]!, src.from, src.dirlinks, parts.join('/'));
      return;
    }
    if (parts.length === 0) {
      if (src.kind !== 'directory') throw new ImgError('E_IMAGE', `only a directory can be placed at '/'`);
      this.root.mode = src.mode;
      return;
    }
    const parent = this.dirAt(parts.slice(0, -1), src.to);
    const name = parts[parts.length - 1]!;
    const rel = parts.join('/');
    if (src.kind === 'directory') {
      const c = parent.children.get(name);
      if (c?.kind === 'dir') {
        c.mode = src.mode;
        c.explicit = true;
      } else this.put(parent, name, this.newDir(src.mode, true), rel);
    } else if (src.kind === 'file') {
      this.put(parent, name, { kind: 'file', mode: src.mode, size: src.data.length, source: { data: src.data } }, rel);
    } else {
      this.put(parent, name, { kind: 'symlink', target: src.target }, rel);
    }
  }

  /** Replaces parent[name] with a non-directory node (or a fresh directory). */
  private put(parent: DirNode, name: string, node: Node, rel: string): void {
    const old = parent.children.get(name);
    if (old?.kind === 'dir' && old.children.size > 0 && node.kind !== 'dir') {
      throw new ImgError('E_IMAGE', `cannot replace the non-empty directory '/${latin1ToUtf8(rel)}' with a ${node.kind === 'file' ? 'file' : 'symlink'}`);
    }
    parent.children.set(name, node);
  }

  /** Adds the physical entry `from` as parent[name] (recursively). */
  private place(parent: DirNode, name: string, from: string, dirlinks: 'copy' | 'keep' | undefined, rel: string): void {
    const st = lstatOrThrow(from);
    let physical = from;
    let isDir = st.isDirectory();
    let mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) {
      const target = readlinkSync(fsPath(from), { encoding: 'buffer' }).toString('latin1');
      const resolved = dirlinks === 'copy' ? this.resolveDirlink(from, target) : undefined;
      if (resolved === undefined) {
        this.put(parent, name, { kind: 'symlink', target }, rel);
        return;
      }
      physical = resolved.path;
      isDir = true;
      mode = resolved.mode;
    }
    if (isDir) {
      let existing = parent.children.get(name);
      if (existing?.kind === 'symlink' && dirlinks === 'keep') {
        const through = this.followInTree(rel, existing.target);
        if (!through) {
          throw new ImgError('E_IMAGE', `copyToRoot: directory '/${latin1ToUtf8(rel)}' would be merged through the symlink to '${latin1ToUtf8(existing.target)}', which is not a directory in the layer (keepContentsDirlinks)`);
        }
        this.mergeDir(through, physical, dirlinks, rel);
        return;
      }
      if (existing?.kind !== 'dir') {
        existing = this.newDir(mode, true);
        parent.children.set(name, existing);
      } else {
        existing.mode = mode;
        existing.explicit = true;
      }
      this.mergeDir(existing, physical, dirlinks, rel);
      return;
    }
    if (st.isFile()) {
      this.put(parent, name, { kind: 'file', mode, size: st.size, source: { path: from } }, rel);
      return;
    }
    throw new ImgError('E_IMAGE', `'${latin1ToUtf8(from)}' is not a regular file, directory or symlink`);
  }

  private mergeDir(d: DirNode, from: string, dirlinks: 'copy' | 'keep' | undefined, rel: string): void {
    const names = readdirSync(fsPath(from), { encoding: 'buffer' }).map((b) => b.toString('latin1'));
    names.sort();
    for (const n of names) this.place(d, n, `${from}/${n}`, dirlinks, rel ? `${rel}/${n}` : n);
  }

  /** rsync -k: the physical directory a source symlink points to, or undefined. */
  private resolveDirlink(linkPath: string, target: string): { path: string; mode: number } | undefined {
    let phys: string | undefined;
    if (target.startsWith('/')) phys = this.spec.resolveAbsolute?.(target);
    else phys = posix.join(posix.dirname(linkPath), target);
    if (phys === undefined) return undefined;
    try {
      const st = statSync(fsPath(phys));
      return st.isDirectory() ? { path: phys, mode: st.mode & 0o7777 } : undefined;
    } catch {
      return undefined;
    }
  }

  /** rsync -K: the directory node a symlink at `/rel` points to in this tree. */
  private followInTree(rel: string, target: string): DirNode | undefined {
    const base = target.startsWith('/') ? [] : rel.split('/').slice(0, -1);
    let parts = [...base, ...target.split('/')];
    let hops = 0;
    for (;;) {
      let d: DirNode = this.root;
      const stack: string[] = [];
      let restart = false;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p === '' || p === '.') continue;
        if (p === '..') {
          stack.pop();
          d = this.lookupDir(stack) ?? this.root;
          continue;
        }
        const c = d.children.get(p);
        if (!c) return undefined;
        if (c.kind === 'dir') {
          d = c;
          stack.push(p);
        } else if (c.kind === 'symlink') {
          if (++hops > 40) return undefined;
          const tb = c.target.startsWith('/') ? [] : [...stack];
          parts = [...tb, ...c.target.split('/'), ...parts.slice(i + 1)];
          restart = true;
          break;
        } else return undefined;
      }
      if (!restart) return d;
    }
  }

  private lookupDir(parts: string[]): DirNode | undefined {
    let d: DirNode = this.root;
    for (const p of parts) {
      const c = d.children.get(p);
      if (c?.kind !== 'dir') return undefined;
      d = c;
    }
    return d;
  }
}

function lstatOrThrow(p: string) {
  try {
    return lstatSync(fsPath(p));
  } catch (e) {
    throw new ImgError('E_IMAGE', `cannot read '${latin1ToUtf8(p)}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

// ---------- from tree to entries ----------

/** The tar entries of a layer in write order (component-wise sorted, parents first). */
export function layerEntries(spec: LayerSpec): TarEntry[] {
  const b = new TreeBuilder(spec);
  for (const s of spec.sources) b.add(s);
  const owner = spec.owner ?? ROOT_OWNER;
  const overrides = new Map<string, OwnershipOverride>();
  for (const o of spec.overrides ?? []) overrides.set(imagePathParts(o.path).join('/'), o);
  const used = new Set<string>();
  const out: TarEntry[] = [];

  const meta = (rel: string, mode: number, inherited: OwnershipOverride | undefined) => {
    const o = overrides.get(rel) ?? inherited;
    if (overrides.has(rel)) used.add(rel);
    const own: TarOwner = o
      ? {
          uid: o.uid ?? owner.uid,
          gid: o.gid ?? owner.gid,
          uname: o.uname ?? (o.uid !== undefined ? '' : owner.uname),
          gname: o.gname ?? (o.gid !== undefined ? '' : owner.gname),
        }
      : owner;
    return { owner: own, mode: o?.mode ?? mode, rec: o?.recursive ? o : inherited };
  };

  const walk = (d: DirNode, rel: string, inherited: OwnershipOverride | undefined) => {
    const names = [...d.children.keys()].sort();
    for (const n of names) {
      const c = d.children.get(n)!;
      const r = rel ? `${rel}/${n}` : n;
      if (c.kind === 'dir') {
        const m = meta(r, c.mode, inherited);
        out.push({ type: 'directory', name: `${r}/`, mode: m.mode, mtime: spec.mtime, owner: m.owner });
        walk(c, r, m.rec);
      } else if (c.kind === 'file') {
        const m = meta(r, c.mode, inherited);
        out.push({ type: 'file', name: r, mode: m.mode, mtime: spec.mtime, owner: m.owner, size: c.size, source: c.source });
      } else {
        const m = meta(r, 0o777, inherited);
        out.push({ type: 'symlink', name: r, mode: m.mode, mtime: spec.mtime, owner: m.owner, target: c.target });
      }
    }
  };
  walk(b.root, '', undefined);
  for (const k of overrides.keys()) {
    if (!used.has(k)) throw new ImgError('E_IMAGE', `ownership override for '/${latin1ToUtf8(k)}' names no entry in the layer`);
  }
  return out;
}

/** Writes entries as a tar into `outPath` (compressed as asked) and describes the result. */
export async function writeTarFile(entries: readonly TarEntry[], outPath: string, compression: Compression = 'none'): Promise<Layer> {
  const { result, digest, size } = await withFileSink(outPath, compression, async (sink) => {
    const w = new TarWriter(sink);
    for (const e of entries) await w.add(e);
    return w.finish();
  });
  return {
    diffID: result.diffID,
    size: result.size,
    digest: digest ?? result.diffID,
    blobSize: size,
    mediaType: mediaTypeFor(compression),
    path: outPath,
  };
}

/** Builds the layer described by `spec` into `outPath`. */
export async function writeLayer(spec: LayerSpec, outPath: string, compression: Compression = 'none'): Promise<Layer> {
  return writeTarFile(layerEntries(spec), outPath, compression);
}

/** The uncompressed size the layer will have, without reading file contents. */
export function layerTarSize(spec: LayerSpec): number {
  return tarSize(layerEntries(spec));
}

// ---------- common source shapes ----------

export interface StoreLocation {
  /** Logical store directory, `/nix/store`. */
  readonly storeDir: string;
  /** Physical location of a logical store path (store/LocalStore.toPhysical). */
  readonly toPhysical: (storePath: string) => string;
}

/** Store paths at their store location (each a tree, symlinks verbatim). */
export function storePathSources(paths: readonly string[], store: StoreLocation): LayerSource[] {
  return [...paths].sort().map((p) => ({ kind: 'tree', from: store.toPhysical(p), to: p }) as const);
}

/** copyToRoot items merged at `/` in order, with keepContentsDirlinks' rsync rule. */
export function copyToRootSources(paths: readonly string[], store: StoreLocation, keepContentsDirlinks = false): LayerSource[] {
  return paths.map((p) => ({ kind: 'tree', from: store.toPhysical(p), to: '/', dirlinks: keepContentsDirlinks ? 'keep' : 'copy' }) as const);
}

/** A `resolveAbsolute` for LayerSpec that maps targets inside the store to physical paths. */
export function storeResolver(store: StoreLocation): (target: string) => string | undefined {
  const prefix = store.storeDir.endsWith('/') ? store.storeDir : `${store.storeDir}/`;
  return (t) => {
    if (!t.startsWith(prefix)) return undefined;
    const rest = t.slice(prefix.length);
    const slash = rest.indexOf('/');
    const top = slash < 0 ? rest : rest.slice(0, slash);
    if (!top || top === '..' || top === '.') return undefined;
    const phys = store.toPhysical(prefix + top);
    const tail = slash < 0 ? '' : rest.slice(slash);
    if (tail.split('/').includes('..')) return undefined;
    return phys + tail;
  };
}

/**
 * A streamLayeredImage store layer as nixpkgs' stream_layered_image.py writes it (reference
 * §2.8), for byte-identical layers: `/nix/` and `/nix/store/` (mode 0755) first, then each store
 * path in the order given — the path and everything below it, children sorted — with absolute
 * names, `mtime` and `owner` on every entry, modes from the store, hard links as regular files,
 * and a store path that is a symlink as just that symlink.
 */
export function storeLayerEntries(paths: readonly string[], store: StoreLocation, opts: { mtime: number; owner: TarOwner }): TarEntry[] {
  const { mtime, owner } = opts;
  const out: TarEntry[] = [
    { type: 'directory', name: '/nix/', mode: 0o755, mtime, owner },
    { type: 'directory', name: '/nix/store/', mode: 0o755, mtime, owner },
  ];
  const walk = (phys: string, name: string) => {
    const st = lstatOrThrow(phys);
    if (st.isSymbolicLink()) {
      out.push({ type: 'symlink', name, mode: st.mode & 0o7777, mtime, owner, target: readlinkSync(fsPath(phys), { encoding: 'buffer' }).toString('latin1') });
    } else if (st.isFile()) {
      out.push({ type: 'file', name, mode: st.mode & 0o7777, mtime, owner, size: st.size, source: { path: phys } });
    } else if (st.isDirectory()) {
      out.push({ type: 'directory', name: `${name}/`, mode: st.mode & 0o7777, mtime, owner });
      const names = readdirSync(fsPath(phys), { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort();
      for (const n of names) walk(`${phys}/${n}`, `${name}/${n}`);
    } else {
      throw new ImgError('E_IMAGE', `'${latin1ToUtf8(phys)}' is not a regular file, directory or symlink`);
    }
  };
  for (const p of paths) {
    if (!p.startsWith(`${store.storeDir}/`)) throw new ImgError('E_IMAGE', `'${latin1ToUtf8(p)}' is not in the store '${store.storeDir}'`);
    walk(store.toPhysical(p), p);
  }
  return out;
}
