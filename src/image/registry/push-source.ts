// image/registry/push-source: the image to push as registry blobs, read in place (no tarball is
// written): from a docker-archive (readDockerArchive: the config bytes unchanged, every layer
// streamed out of its archive member as the uncompressed tar, blob digest = diffID, an OCI
// manifest made here), from an OCI layout directory or from an OCI archive (tar of a layout;
// blobs streamed from their members; manifest bytes kept, so the registry digest is the
// layout's). Archives are untrusted: member names are checked by tar-reader. Never writes
// outside `workDir` (used only for a compressed outer docker-archive) and never prints.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { ImgError } from '../../base/error.js';
import { sha256, toHex } from '../../base/hash.js';
import { readDockerArchive } from '../docker-archive.js';
import { jsonBytes, ordered, parseJsonBytes } from '../json.js';
import { MEDIA_TYPE_LAYER } from '../layer.js';
import { MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST } from '../oci-layout.js';
import { indexTar, lookupMember, readMember, type TarIndex } from '../tar-reader.js';

export interface Blob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** The blob's bytes as a stream (a fresh one per call). */
  open(): Readable;
}

export interface PushableImage {
  readonly config: Blob;
  readonly layers: readonly Blob[];
  /** The exact manifest bytes to PUT, and their media type. */
  readonly manifest: Buffer;
  readonly manifestMediaType: string;
  /** `sha256:` of `manifest`. */
  readonly manifestDigest: string;
}

const u = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

const bufferBlob = (bytes: Buffer, mediaType: string): Blob => ({
  digest: `sha256:${toHex(sha256(bytes))}`,
  size: bytes.length,
  mediaType,
  open: () => PassThrough.from([bytes]),
});

/** An OCI manifest (compact, Go field order) over a config and layer blobs. */
export function ociManifest(config: Blob, layers: readonly Blob[]): Buffer {
  return jsonBytes(
    ordered([
      ['schemaVersion', 2],
      ['mediaType', MEDIA_TYPE_OCI_MANIFEST],
      ['config', ordered([['mediaType', config.mediaType], ['digest', config.digest], ['size', config.size]])],
      ['layers', layers.map((l) => ordered([['mediaType', l.mediaType], ['digest', l.digest], ['size', l.size]]))],
    ]),
    'go',
  );
}

async function countBytes(s: Readable): Promise<number> {
  let n = 0;
  for await (const c of s) n += (c as Buffer).length;
  return n;
}

/** A docker-archive's image (the one tagged `ref`, else the first) as registry blobs. */
export async function dockerArchiveSource(path: string, opts: { ref?: string; workDir?: string } = {}): Promise<PushableImage> {
  const img = await readDockerArchive(path, opts);
  if (!img.configBytes) {
    throw new ImgError('E_ARCHIVE', `'${u(path)}' is a legacy archive without manifest.json; it has no image config to push`);
  }
  const config = bufferBlob(img.configBytes, MEDIA_TYPE_OCI_CONFIG);
  const layers: Blob[] = [];
  const seen = new Map<string, Blob>();
  for (const l of img.layers) {
    let b = seen.get(l.diffID);
    if (!b) {
      // A stored-compressed member: its uncompressed size is known only by reading it once.
      const size = l.compression === 'none' ? l.storedSize : await countBytes(l.open());
      b = { digest: l.diffID, size, mediaType: MEDIA_TYPE_LAYER, open: () => l.open() };
      seen.set(l.diffID, b);
    }
    layers.push(b);
  }
  const manifest = ociManifest(config, layers);
  return { config, layers, manifest, manifestMediaType: MEDIA_TYPE_OCI_MANIFEST, manifestDigest: `sha256:${toHex(sha256(manifest))}` };
}

interface BlobReader {
  what: string;
  /** Size and stream of blob `digest`, or undefined when the layout lacks it. */
  get(digest: string): { size: number; open(): Readable; read(): Buffer } | undefined;
}

function dirReader(dir: string): BlobReader {
  return {
    what: `OCI layout '${dir}'`,
    get(digest) {
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new ImgError('E_ARCHIVE', `OCI layout '${dir}' names the malformed digest '${digest}'`);
      const p = join(dir, 'blobs', 'sha256', digest.slice(7));
      if (!existsSync(p)) return undefined;
      const size = statSync(p).size;
      return { size, open: () => (size === 0 ? PassThrough.from([]) : createReadStream(p, { highWaterMark: 1 << 20 })), read: () => readFileSync(p) };
    },
  };
}

function tarReader(index: TarIndex, archive: string): BlobReader {
  return {
    what: `OCI archive '${archive}'`,
    get(digest) {
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new ImgError('E_ARCHIVE', `OCI archive '${archive}' names the malformed digest '${digest}'`);
      const m = lookupMember(index, `blobs/sha256/${digest.slice(7)}`, archive);
      if (!m) return undefined;
      return {
        size: m.size,
        open: () => (m.size === 0 ? PassThrough.from([]) : createReadStream(index.path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 })),
        read: () => readMember(index, m),
      };
    },
  };
}

function readJson(r: BlobReader, digest: string, what: string): { bytes: Buffer; json: Record<string, unknown> } {
  const b = r.get(digest);
  if (!b) throw new ImgError('E_ARCHIVE', `${r.what} has no blob ${digest} (${what})`);
  const bytes = b.read();
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== digest) throw new ImgError('E_ARCHIVE', `${r.what}: blob ${digest} (${what}) has the digest ${got}`);
  return { bytes, json: parseJsonBytes(bytes, `${what} in ${r.what}`) as Record<string, unknown> };
}

function layoutSource(r: BlobReader, indexBytes: Buffer, refName: string | undefined): PushableImage {
  const index = parseJsonBytes(indexBytes, `index.json of ${r.what}`) as { manifests?: Record<string, unknown>[] };
  const manifests = Array.isArray(index.manifests) ? index.manifests : [];
  const refOf = (d: Record<string, unknown>) => ((d.annotations ?? {}) as Record<string, string>)['org.opencontainers.image.ref.name'];
  const desc = refName === undefined ? manifests[0] : manifests.find((d) => refOf(d) === refName);
  if (!desc) {
    const have = manifests.map(refOf).filter(Boolean);
    throw new ImgError('E_ARCHIVE', refName === undefined ? `${r.what} lists no images` : `${r.what} has no image named '${refName}'`, undefined,
      have.length ? [{ message: `it has: ${have.map((h) => `'${h}'`).join(', ')}` }] : []);
  }
  if (desc.mediaType === MEDIA_TYPE_OCI_INDEX) throw new ImgError('E_ARCHIVE', `${r.what}: pushing a nested image index is not supported`);
  const m = readJson(r, String(desc.digest), 'the manifest');
  const blobOf = (d: Record<string, unknown>, what: string): Blob => {
    const digest = String(d.digest);
    const b = r.get(digest);
    if (!b) throw new ImgError('E_ARCHIVE', `${r.what} has no blob ${digest} (${what})`);
    if (b.size !== Number(d.size)) throw new ImgError('E_ARCHIVE', `${r.what}: blob ${digest} (${what}) has ${b.size} bytes, the manifest says ${String(d.size)}`);
    return { digest, size: b.size, mediaType: String(d.mediaType), open: b.open };
  };
  const cfg = m.json.config as Record<string, unknown> | undefined;
  const layerDescs = m.json.layers as Record<string, unknown>[] | undefined;
  if (!cfg || !Array.isArray(layerDescs)) throw new ImgError('E_ARCHIVE', `${r.what}: the manifest ${String(desc.digest)} has no config or layers`);
  return {
    config: blobOf(cfg, 'the config'),
    layers: layerDescs.map((d, i) => blobOf(d, `layer ${i + 1}`)),
    manifest: m.bytes,
    manifestMediaType: String(m.json.mediaType ?? desc.mediaType ?? MEDIA_TYPE_OCI_MANIFEST),
    manifestDigest: String(desc.digest),
  };
}

/** An OCI layout directory's image (`refName` selects by org.opencontainers.image.ref.name). */
export function ociDirSource(dir: string, refName?: string): PushableImage {
  const ix = join(dir, 'index.json');
  if (!existsSync(ix)) throw new ImgError('E_ARCHIVE', `'${dir}' is not an OCI image layout (it has no index.json)`);
  return layoutSource(dirReader(dir), readFileSync(ix), refName);
}

/** An OCI archive (tar of a layout) read in place. */
export function ociArchiveSource(path: string, refName?: string): PushableImage {
  const index = indexTar(path);
  const ix = lookupMember(index, 'index.json', path);
  if (!ix) throw new ImgError('E_ARCHIVE', `'${u(path)}' is not an OCI archive (it has no index.json)`);
  return layoutSource(tarReader(index, path), readMember(index, ix), refName);
}

/** Whatever `path` is: an OCI layout directory, an OCI archive or a docker-archive. */
export async function openPushSource(path: string, opts: { ref?: string; workDir?: string } = {}): Promise<PushableImage> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ImgError('E_ARCHIVE', `'${u(path)}' does not exist`);
  }
  if (st.isDirectory()) return ociDirSource(path, opts.ref);
  // A tar with index.json and no manifest.json is an OCI archive; anything else a docker-archive.
  const head = Buffer.alloc(2);
  const fd = (await import('node:fs')).openSync(path, 'r');
  try {
    (await import('node:fs')).readSync(fd, head, 0, 2, 0);
  } finally {
    (await import('node:fs')).closeSync(fd);
  }
  const compressed = (head[0] === 0x1f && head[1] === 0x8b) || (head[0] === 0x28 && head[1] === 0xb5);
  if (!compressed) {
    const index = indexTar(path);
    if (!index.members.has('manifest.json') && index.members.has('index.json')) return ociArchiveSource(path, opts.ref);
  }
  return dockerArchiveSource(path, opts);
}
