// image/docker-archive: the `docker save` / `docker load` archive. Writing in both layouts
// nixpkgs produces: 'buildImage' (legacy `<id>/VERSION`, `<id>/json` with `parent`,
// `<id>/layer.tar`, `repositories`, `manifest.json`, `<config>.json`, sorted, files 0444) and
// 'streamLayeredImage' (manifest-only: `<diffID hex>/layer.tar` per layer, the config, then
// `manifest.json`). Reading (for fromImage): archives from buildImage, buildLayeredImage,
// `docker save`, podman and skopeo (layers at the top level or under `blobs/sha256`, symlinked
// members, repeated layers, gzip/zstd layers, gzip/zstd outer archive), by `name:tag`, with a
// fallback to `repositories` + the legacy `parent` chain when there is no manifest.json.
// Archives are untrusted data (see tar-reader.ts); reading never writes outside `workDir`.
// It never reads the clock and never writes to stdout.

import { createReadStream, createWriteStream, openSync, readSync, closeSync, mkdirSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import { ImgError } from '../base/error.js';
import { sha256, toHex } from '../base/hash.js';
import { type ImageConfig } from './config.js';
import type { Image } from './image.js';
import { type JsonValue, jsonBytes, ordered, parseJsonBytes, sortKeysDeep } from './json.js';
import { type Layer, type LayerSpec, MEDIA_TYPE_LAYER, ROOT_OWNER, layerEntries } from './layer.js';
import { type Compression, type TarEntry, TarWriter, asyncFdSink, headerBlock, tarSize, withFileSink } from './tar-writer.js';
import { type TarIndex, type TarMember, indexTar, lookupMember, readMember } from './tar-reader.js';

/** An image to put in an archive: the file at each layer's `path` is copied in as is. */
export type ArchiveImage = Image;

export type ArchiveLayout = 'buildImage' | 'streamLayeredImage';

export interface DockerArchiveOptions {
  readonly layout: ArchiveLayout;
  /** mtime of every member (buildImage: SOURCE_DATE_EPOCH 315532800; stream: `mtime`, default 1). */
  readonly mtime: number;
  /** Compression of the whole archive (buildImage's `compressor`). */
  readonly compression?: Compression;
}

export interface WrittenFile {
  readonly path: string;
  /** `sha256:<hex>` of the file's bytes (after compression). */
  readonly digest: string;
  readonly size: number;
}

const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

/** Component-wise name order (GNU tar --sort=name): `/` sorts before every other byte. */
export function compareMemberNames(a: string, b: string): number {
  const x = a.replaceAll('/', '\0');
  const y = b.replaceAll('/', '\0');
  return x < y ? -1 : x > y ? 1 : 0;
}

function splitRepoTag(rt: string): [string, string] {
  const slash = rt.lastIndexOf('/');
  const colon = rt.lastIndexOf(':');
  if (colon <= slash) throw new ImgError('E_IMAGE', `image reference '${rt}' has no tag`);
  return [rt.slice(0, colon), rt.slice(colon + 1)];
}

/** The member entries of one archive, in write order. */
function archiveEntries(images: readonly ArchiveImage[], opts: DockerArchiveOptions): TarEntry[] {
  const mtime = opts.mtime;
  const file = (name: string, data: Uint8Array | { path: string; size: number }, mode: number): TarEntry =>
    data instanceof Uint8Array
      ? { type: 'file', name, mode, mtime, owner: ROOT_OWNER, size: data.length, source: { data } }
      : { type: 'file', name, mode, mtime, owner: ROOT_OWNER, size: data.size, source: { path: data.path } };
  const byName = new Map<string, TarEntry>();
  const add = (e: TarEntry) => {
    if (!byName.has(e.name)) byName.set(e.name, e);
  };

  if (opts.layout === 'streamLayeredImage') {
    const manifest: JsonValue[] = [];
    for (const img of images) {
      const members: string[] = [];
      for (const l of img.layers) {
        const m = `${hexOf(l.diffID)}/layer.tar`;
        add(file(m, { path: l.path, size: l.blobSize }, 0o644));
        members.push(m);
      }
      add(file(`${hexOf(img.config.digest)}.json`, img.config.bytes, 0o644));
      manifest.push(ordered([['Config', `${hexOf(img.config.digest)}.json`], ['RepoTags', [...img.repoTags]], ['Layers', members]]));
    }
    add(file('manifest.json', jsonBytes(manifest, 'python'), 0o644));
    return [...byName.values()];
  }

  // buildImage layout: legacy layer directories chained by `parent`, then sorted like GNU tar.
  const manifest: JsonValue[] = [];
  const repositories = new Map<string, Map<string, string>>();
  for (const img of images) {
    const cfg = parseJsonBytes(img.config.bytes, 'the image config') as Record<string, unknown>;
    const members: string[] = [];
    let parent: string | undefined;
    img.layers.forEach((l, i) => {
      const top = i === img.layers.length - 1;
      const base: [string, JsonValue | undefined][] = top
        ? [
            ['architecture', cfg.architecture as JsonValue],
            ['config', sortKeysDeep((cfg.config ?? null) as JsonValue)],
            ['created', cfg.created as JsonValue],
            ['os', (cfg.os ?? 'linux') as JsonValue],
          ]
        : [['created', cfg.created as JsonValue], ['os', (cfg.os ?? 'linux') as JsonValue]];
      base.push(['layer_id', chainOf(img.layers.slice(0, i + 1).map((x) => x.diffID))]);
      if (parent) base.push(['parent', parent]);
      const id = toHex(sha256(jsonBytes(ordered(base), 'jq')));
      const json = ordered([...base.filter(([k]) => k !== 'layer_id'), ['id', id], ['Size', l.blobSize]]);
      add({ type: 'directory', name: `${id}/`, mode: 0o555, mtime, owner: ROOT_OWNER });
      add(file(`${id}/VERSION`, Buffer.from('1.0'), 0o444));
      add(file(`${id}/json`, jsonBytes(json, 'jq'), 0o444));
      add(file(`${id}/layer.tar`, { path: l.path, size: l.blobSize }, 0o444));
      members.push(`${id}/layer.tar`);
      parent = id;
    });
    add(file(`${hexOf(img.config.digest)}.json`, img.config.bytes, 0o444));
    manifest.push(ordered([['RepoTags', [...img.repoTags]], ['Layers', members], ['Config', `${hexOf(img.config.digest)}.json`]]));
    if (parent) {
      for (const rt of img.repoTags) {
        const [name, tag] = splitRepoTag(rt);
        if (!repositories.has(name)) repositories.set(name, new Map());
        repositories.get(name)!.set(tag, parent);
      }
    }
  }
  add(file('manifest.json', jsonBytes(manifest, 'jq'), 0o444));
  const repos = ordered([...repositories].map(([n, tags]) => [n, ordered([...tags].map(([t, id]) => [t, id]))]));
  add(file('repositories', jsonBytes(repos, 'jq'), 0o444));
  return [...byName.values()].sort((a, b) => compareMemberNames(a.name.replace(/\/$/, ''), b.name.replace(/\/$/, '')));
}

function chainOf(diffIDs: string[]): string {
  let c = diffIDs[0]!;
  for (const d of diffIDs.slice(1)) c = `sha256:${toHex(sha256(`${c} ${d}`))}`;
  return c;
}

/** Writes a docker-archive holding `images` to `outPath`. */
export async function writeDockerArchive(outPath: string, images: readonly ArchiveImage[], opts: DockerArchiveOptions): Promise<WrittenFile> {
  if (images.length === 0) throw new ImgError('E_IMAGE', 'a docker archive needs at least one image');
  for (const img of images) {
    for (const rt of img.repoTags) splitRepoTag(rt);
  }
  const entries = archiveEntries(images, opts);
  const { result, digest, size } = await withFileSink(outPath, opts.compression ?? 'none', async (sink) => {
    const w = new TarWriter(sink);
    for (const e of entries) await w.add(e);
    return w.finish();
  });
  return { path: outPath, digest: digest ?? result.diffID, size };
}

export interface StreamedImage {
  readonly repoTags: readonly string[];
  /**
   * Bottom → top: a LayerSpec is built straight into the archive (one pass: tar + sha256, no
   * layer file); a Layer (a base layer, a prebuilt customisation layer) is copied in.
   */
  readonly layers: readonly (LayerSpec | Layer | { readonly entries: readonly TarEntry[] })[];
  /** Makes the config once the diffIDs are known. */
  readonly makeConfig: (diffIDs: readonly string[]) => ImageConfig;
  /** mtime of the archive's members. */
  readonly mtime: number;
}

export interface StreamedArchive {
  readonly path: string;
  readonly size: number;
  readonly config: ImageConfig;
  /** The layers as they are in the archive (diffID, size); `path` is the member name. */
  readonly layers: readonly { readonly diffID: string; readonly size: number; readonly member: string }[];
}

const isLayer = (x: LayerSpec | Layer | { readonly entries: readonly TarEntry[] }): x is Layer => 'diffID' in x;

/**
 * Writes a streamLayeredImage-layout archive whose store layers are tarred and hashed straight
 * into it: each layer member is written with its precomputed size under a placeholder name and
 * its header is rewritten with `<diffID hex>/layer.tar` once the hash is known (the output must
 * be a seekable file). Members: the layers, `<config hex>.json`, `manifest.json` (Python style).
 */
export async function writeStreamedArchive(outPath: string, img: StreamedImage): Promise<StreamedArchive> {
  for (const rt of img.repoTags) splitRepoTag(rt);
  const fd = openSync(outPath, 'w', 0o644);
  try {
    const outer = new TarWriter(asyncFdSink(fd), { hash: false });
    const written: { diffID: string; size: number; member: string }[] = [];
    const file = (name: string, size: number): TarEntry & { type: 'file' } => ({
      type: 'file', name, mode: 0o644, mtime: img.mtime, owner: ROOT_OWNER, size, source: { data: Buffer.alloc(0) },
    });
    const seen = new Set<string>();
    for (const l of img.layers) {
      if (isLayer(l)) {
        const name = `${hexOf(l.diffID)}/layer.tar`;
        if (!seen.has(name)) await outer.add({ ...file(name, l.blobSize), source: { path: l.path } });
        seen.add(name);
        written.push({ diffID: l.diffID, size: l.blobSize, member: name });
        continue;
      }
      const entries = 'entries' in l ? l.entries : layerEntries(l);
      const size = tarSize(entries);
      const placeholder = file(`${'0'.repeat(64)}/layer.tar`, size);
      let diffID = '';
      const at = await outer.addFileFrom(placeholder, async (sink) => {
        const inner = new TarWriter(sink);
        for (const e of entries) await inner.add(e);
        const r = await inner.finish();
        if (r.size !== size) throw new Error(`internal: layer size ${r.size} != planned ${size}`);
        diffID = r.diffID;
      });
      const name = `${hexOf(diffID)}/layer.tar`;
      writeSync(fd, headerBlock({ ...placeholder, name }), 0, 512, at);
      seen.add(name);
      written.push({ diffID, size, member: name });
    }
    const config = img.makeConfig(written.map((w) => w.diffID));
    const cfgName = `${hexOf(config.digest)}.json`;
    await outer.add({ ...file(cfgName, config.bytes.length), source: { data: config.bytes } });
    const manifest = jsonBytes([ordered([['Config', cfgName], ['RepoTags', [...img.repoTags]], ['Layers', written.map((w) => w.member)]])], 'python');
    await outer.add({ ...file('manifest.json', manifest.length), source: { data: manifest } });
    const { size } = await outer.finish();
    return { path: outPath, size, config, layers: written };
  } finally {
    closeSync(fd);
  }
}

// ---------- reading ----------

export interface BaseLayer {
  /** The member holding the layer (after following symlinks). */
  readonly member: string;
  /** `sha256:<hex>` of the uncompressed layer tar (from the config; computed when there is none). */
  readonly diffID: string;
  readonly compression: Compression;
  /** Bytes stored in the archive. */
  readonly storedSize: number;
  /** The uncompressed layer tar as a stream. */
  open(): Readable;
  /** Writes the uncompressed layer to `path`, checks its diffID and describes it. */
  copyTo(path: string): Promise<Layer>;
}

export interface BaseImage {
  readonly archive: string;
  readonly repoTags: readonly string[];
  /** The exact config bytes and digest; undefined for a legacy archive without manifest.json. */
  readonly configBytes: Buffer | undefined;
  readonly configDigest: string | undefined;
  /** The parsed config (binary strings); for a legacy archive the top layer's `json`. */
  readonly config: Record<string, unknown>;
  /** `config.Env` of the base (the only field dockerTools inherits). */
  readonly env: readonly string[];
  /** Bottom → top, repeated layers kept. */
  readonly layers: readonly BaseLayer[];
}

export interface ReadOptions {
  /** `name:tag` to select; default: the first manifest entry. */
  readonly ref?: string;
  /** Where a compressed outer archive is decompressed (required for such archives). */
  readonly workDir?: string;
}

const u = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

function sniff(path: string, offset: number, size: number): Compression {
  if (size < 4) return 'none';
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, offset);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
    return 'none';
  } finally {
    closeSync(fd);
  }
}

/** A decompressing stream over bytes [offset, offset+size) of `path`. */
function openRange(path: string, offset: number, size: number, compression: Compression, what: string): Readable {
  const raw: Readable = size === 0 ? PassThrough.from([]) : createReadStream(path, { start: offset, end: offset + size - 1, highWaterMark: 1 << 20 });
  if (compression === 'none') return raw;
  if (compression === 'gzip') {
    const g = createGunzip({ chunkSize: 1 << 20 });
    raw.on('error', (e: Error) => g.destroy(e));
    raw.pipe(g);
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    g.on('error', (e) => out.destroy(new ImgError('E_ARCHIVE', `${what} is not valid gzip: ${e.message}`)));
    g.pipe(out);
    return out;
  }
  const p = execa('zstd', ['-d', '-c', '-q'], { stdin: 'pipe', stdout: 'pipe', encoding: 'buffer', buffer: false, reject: false });
  raw.pipe(p.stdin!);
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  p.stdout!.pipe(out);
  void p.then((r) => {
    if (r.failed) out.destroy(new ImgError('E_ARCHIVE', `${what}: zstd failed${(r as { code?: string }).code === 'ENOENT' ? " ('zstd' is not installed)" : ''}`));
  });
  return out;
}

async function hashStream(s: Readable): Promise<{ diffID: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of s) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { diffID: `sha256:${h.digest('hex')}`, size };
}

function jsonMember(index: TarIndex, name: string, archive: string): unknown {
  const m = lookupMember(index, name, archive);
  if (!m) throw new ImgError('E_ARCHIVE', `archive '${u(archive)}' has no member '${u(name)}'`);
  return parseJsonBytes(readMember(index, m), `member '${u(name)}' of '${u(archive)}'`);
}

function makeLayer(index: TarIndex, m: TarMember, diffID: string, archive: string): BaseLayer {
  const compression = sniff(index.path, m.offset, m.size);
  const what = `layer '${u(m.name)}' of '${u(archive)}'`;
  return {
    member: m.name,
    diffID,
    compression,
    storedSize: m.size,
    open: () => openRange(index.path, m.offset, m.size, compression, what),
    async copyTo(path: string): Promise<Layer> {
      const h = createHash('sha256');
      let size = 0;
      const src = openRange(index.path, m.offset, m.size, compression, what);
      const counter = new PassThrough({ highWaterMark: 1 << 20 });
      counter.on('data', (c: Buffer) => {
        h.update(c);
        size += c.length;
      });
      await pipeline(src, counter, createWriteStream(path));
      const got = `sha256:${h.digest('hex')}`;
      if (got !== diffID) throw new ImgError('E_ARCHIVE', `${what} has diffID ${got}, but the image config says ${diffID}`);
      return { diffID, size, digest: diffID, blobSize: size, mediaType: MEDIA_TYPE_LAYER, path };
    },
  };
}

async function decompressArchive(path: string, c: Compression, workDir: string | undefined): Promise<string> {
  if (!workDir) throw new ImgError('E_ARCHIVE', `archive '${u(path)}' is ${c}-compressed and no work directory was given to decompress it`);
  mkdirSync(workDir, { recursive: true });
  const out = join(workDir, 'archive.tar');
  const { statSync } = await import('node:fs');
  const size = statSync(path).size;
  try {
    await pipeline(openRange(path, 0, size, c, `archive '${u(path)}'`), createWriteStream(out));
  } catch (e) {
    if (e instanceof ImgError) throw e;
    throw new ImgError('E_ARCHIVE', `archive '${u(path)}' could not be decompressed: ${(e as Error).message}`);
  }
  return out;
}

const matchesRef = (tags: readonly string[], ref: string) =>
  tags.some((t) => t === ref || t === `docker.io/library/${ref}` || t === `localhost/${ref}` || `docker.io/library/${t}` === ref);

/** Reads the image `opts.ref` (or the first) of the docker-archive at `path`. */
export async function readDockerArchive(path: string, opts: ReadOptions = {}): Promise<BaseImage> {
  const { statSync } = await import('node:fs');
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ImgError('E_ARCHIVE', `image archive '${u(path)}' does not exist`);
  }
  const outer = sniff(path, 0, st.size);
  const tarPath = outer === 'none' ? path : await decompressArchive(path, outer, opts.workDir);
  const index = indexTar(tarPath, path);

  if (index.members.has('manifest.json')) {
    const manifest = jsonMember(index, 'manifest.json', path);
    if (!Array.isArray(manifest) || manifest.length === 0) throw new ImgError('E_ARCHIVE', `manifest.json of '${u(path)}' lists no images`);
    let entry = manifest[0] as Record<string, unknown>;
    if (opts.ref) {
      const found = manifest.find((e) => matchesRef(((e as Record<string, unknown>).RepoTags as string[] | null) ?? [], opts.ref!));
      if (!found) {
        const all = manifest.flatMap((e) => ((e as Record<string, unknown>).RepoTags as string[] | null) ?? []);
        throw new ImgError('E_ARCHIVE', `archive '${u(path)}' has no image '${u(opts.ref)}'`, undefined, [
          { message: `it has: ${all.length ? all.map((t) => `'${u(t)}'`).join(', ') : 'no tags'}` },
        ]);
      }
      entry = found as Record<string, unknown>;
    }
    const configName = entry.Config;
    const layerNames = entry.Layers;
    if (typeof configName !== 'string' || !Array.isArray(layerNames)) {
      throw new ImgError('E_ARCHIVE', `manifest.json of '${u(path)}' has an entry without Config or Layers`);
    }
    const cm = lookupMember(index, configName, path);
    if (!cm) throw new ImgError('E_ARCHIVE', `archive '${u(path)}' has no config member '${u(configName)}'`);
    const configBytes = readMember(index, cm);
    const config = parseJsonBytes(configBytes, `config '${u(configName)}' of '${u(path)}'`) as Record<string, unknown>;
    const diffIDs = ((config.rootfs as Record<string, unknown> | undefined)?.diff_ids ?? []) as string[];
    if (!Array.isArray(diffIDs) || diffIDs.length !== layerNames.length) {
      throw new ImgError('E_ARCHIVE', `archive '${u(path)}': the config lists ${Array.isArray(diffIDs) ? diffIDs.length : 0} diff_ids but the manifest ${layerNames.length} layers`);
    }
    const layers = layerNames.map((ln, i) => {
      const m = lookupMember(index, String(ln), path);
      if (!m) throw new ImgError('E_ARCHIVE', `archive '${u(path)}' has no layer member '${u(String(ln))}'`);
      return makeLayer(index, m, diffIDs[i]!, path);
    });
    const env = envOf(config);
    return {
      archive: path,
      repoTags: ((entry.RepoTags as string[] | null) ?? []).map(String),
      configBytes,
      configDigest: `sha256:${toHex(sha256(configBytes))}`,
      config,
      env,
      layers,
    };
  }

  // No manifest.json: repositories + the legacy parent chain.
  if (!index.members.has('repositories')) {
    throw new ImgError('E_ARCHIVE', `'${u(path)}' is not a docker archive: it has neither manifest.json nor repositories`);
  }
  const repos = jsonMember(index, 'repositories', path) as Record<string, Record<string, string>>;
  let top: string | undefined;
  let repoTags: string[] = [];
  for (const [name, tags] of Object.entries(repos ?? {})) {
    for (const [tag, id] of Object.entries(tags ?? {})) {
      const rt = `${name}:${tag}`;
      if (opts.ref ? matchesRef([rt], opts.ref) : top === undefined) {
        top = id;
        repoTags = [rt];
      }
    }
  }
  if (!top) throw new ImgError('E_ARCHIVE', `archive '${u(path)}' has no image '${u(opts.ref ?? '')}' in its repositories file`);
  const chain: string[] = [];
  let topJson: Record<string, unknown> | undefined;
  for (let id: string | undefined = top; id; ) {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new ImgError('E_ARCHIVE', `archive '${u(path)}' names the malformed layer id '${u(id)}'`);
    if (chain.includes(id)) throw new ImgError('E_ARCHIVE', `archive '${u(path)}' has a cycle in its layer parents at '${id}'`);
    const j = jsonMember(index, `${id}/json`, path) as Record<string, unknown>;
    topJson ??= j;
    chain.push(id);
    id = typeof j.parent === 'string' ? j.parent.replace(/^sha256:/, '') : undefined;
  }
  chain.reverse();
  const layers: BaseLayer[] = [];
  for (const id of chain) {
    const m = lookupMember(index, `${id}/layer.tar`, path);
    if (!m) throw new ImgError('E_ARCHIVE', `archive '${u(path)}' has no member '${id}/layer.tar'`);
    const c = sniff(index.path, m.offset, m.size);
    const { diffID } = await hashStream(openRange(index.path, m.offset, m.size, c, `layer '${id}'`));
    layers.push(makeLayer(index, m, diffID, path));
  }
  const config = topJson ?? {};
  return { archive: path, repoTags, configBytes: undefined, configDigest: undefined, config, env: envOf(config), layers };
}

function envOf(config: Record<string, unknown>): string[] {
  const c = config.config as Record<string, unknown> | null | undefined;
  const env = c?.Env;
  return Array.isArray(env) ? env.map(String) : [];
}
