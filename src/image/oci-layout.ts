// image/oci-layout: writes an OCI image layout (image-spec v1.0/1.1) — `oci-layout`,
// `index.json` with `org.opencontainers.image.ref.name` = the tag, `blobs/sha256/…` — as a
// directory or as a tar of that directory, from the same layers and config bytes as the
// docker-archive. The config bytes are written unchanged, so the image ID (config digest) is the
// same in both formats. Layers are stored as given or gzip/zstd-compressed; media types say
// which. Manifest and index are compact JSON in Go field order. No clock, no stdout.

import { closeSync, copyFileSync, createReadStream, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../base/error.js';
import { sha256, toHex } from '../base/hash.js';
import { type ImageConfig } from './config.js';
import { platformOf } from './image.js';
import { jsonBytes, ordered, type JsonValue } from './json.js';
import { type Layer, MEDIA_TYPE_LAYER, ROOT_OWNER, layerEntries, mediaTypeFor } from './layer.js';
import { type Compression, type TarEntry, DigestSink, TarWriter, compressSink, fdSink, withFileSink } from './tar-writer.js';

export const MEDIA_TYPE_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

export interface OciImage {
  readonly config: ImageConfig;
  readonly layers: readonly Layer[];
  /** `org.opencontainers.image.ref.name` (e.g. `latest` or `example.com/app:1.0`); none when absent. */
  readonly refName?: string;
}

export interface OciOptions {
  /** Layer blob compression (default gzip, what registries expect; 'none' keeps the tars). */
  readonly compression?: Compression;
}

export interface OciResult {
  readonly manifestDigest: string;
  readonly manifestSize: number;
  readonly configDigest: string;
  readonly layers: readonly Layer[];
}

const REF_NAME = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

/** Stores a layer blob in the layout, compressing the uncompressed tar when asked. */
async function putLayer(dir: string, l: Layer, compression: Compression): Promise<Layer> {
  const want = mediaTypeFor(compression);
  if (l.mediaType === want) {
    const dst = blobPath(dir, l.digest);
    if (!existsSync(dst)) copyFileSync(l.path, dst);
    return { ...l, path: dst };
  }
  if (l.mediaType !== MEDIA_TYPE_LAYER) {
    throw new ImgError('E_IMAGE', `cannot store a '${l.mediaType}' layer as '${want}'`);
  }
  const tmp = join(dir, 'blobs', 'sha256', `.tmp-${l.diffID.slice(7)}`);
  const fd = openSync(tmp, 'w', 0o644);
  let digest: string;
  let size: number;
  try {
    const file = new DigestSink(fdSink(fd));
    const sink = compressSink(file, compression);
    for await (const chunk of createReadStream(l.path, { highWaterMark: 4 << 20 })) await sink.write(chunk as Buffer);
    await sink.end?.();
    digest = file.digest;
    size = file.size;
  } finally {
    closeSync(fd);
  }
  const dst = blobPath(dir, digest);
  renameSync(tmp, dst);
  return { diffID: l.diffID, size: l.size, digest, blobSize: size, mediaType: want, path: dst };
}

function putBytes(dir: string, bytes: Buffer): { digest: string; size: number } {
  const digest = `sha256:${toHex(sha256(bytes))}`;
  writeFileSync(blobPath(dir, digest), bytes);
  return { digest, size: bytes.length };
}

/** Writes the images into an OCI layout directory `dir` (created; must not hold another layout). */
export async function writeOciLayout(dir: string, images: readonly OciImage[], opts: OciOptions = {}): Promise<OciResult[]> {
  const compression = opts.compression ?? 'gzip';
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const results: OciResult[] = [];
  const manifests: JsonValue[] = [];
  for (const img of images) {
    if (img.refName !== undefined && !REF_NAME.test(img.refName)) {
      throw new ImgError('E_IMAGE', `'${img.refName}' is not a valid OCI reference name`);
    }
    const layers: Layer[] = [];
    for (const l of img.layers) layers.push(await putLayer(dir, l, compression));
    const cfg = putBytes(dir, img.config.bytes);
    if (cfg.digest !== img.config.digest) throw new Error('internal: config digest mismatch');
    const manifest = ordered([
      ['schemaVersion', 2],
      ['mediaType', MEDIA_TYPE_OCI_MANIFEST],
      ['config', ordered([['mediaType', MEDIA_TYPE_OCI_CONFIG], ['digest', cfg.digest], ['size', cfg.size]])],
      ['layers', layers.map((l) => ordered([['mediaType', l.mediaType], ['digest', l.digest], ['size', l.blobSize]]))],
    ]);
    const mb = jsonBytes(manifest, 'go');
    const m = putBytes(dir, mb);
    manifests.push(
      ordered([
        ['mediaType', MEDIA_TYPE_OCI_MANIFEST],
        ['digest', m.digest],
        ['size', m.size],
        ['annotations', img.refName !== undefined ? ordered([['org.opencontainers.image.ref.name', img.refName]]) : undefined],
        ['platform', ordered([['architecture', platformOf(img.config).architecture], ['os', platformOf(img.config).os]])],
      ]),
    );
    results.push({ manifestDigest: m.digest, manifestSize: m.size, configDigest: cfg.digest, layers });
  }
  const index = ordered([['schemaVersion', 2], ['mediaType', MEDIA_TYPE_OCI_INDEX], ['manifests', manifests]]);
  writeFileSync(join(dir, 'index.json'), jsonBytes(index, 'go'));
  writeFileSync(join(dir, 'oci-layout'), jsonBytes(ordered([['imageLayoutVersion', '1.0.0']]), 'go'));
  return results;
}

/**
 * Writes the layout as a tar file (`oci-archive`): the layout is built in `outPath + '.layout'`
 * (removed afterwards), then tarred sorted with fixed mtime and owner 0:0.
 */
export async function writeOciArchive(outPath: string, images: readonly OciImage[], mtime: number, opts: OciOptions = {}): Promise<{ digest: string; size: number; results: OciResult[] }> {
  const tmp = `${outPath}.layout`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const results = await writeOciLayout(tmp, images, opts);
    const entries: TarEntry[] = layerEntries({
      sources: [{ kind: 'tree', from: Buffer.from(tmp, 'utf8').toString('latin1'), to: '/' }],
      mtime,
      owner: ROOT_OWNER,
    }).map((e) => (e.type === 'directory' ? { ...e, mode: 0o755 } : { ...e, mode: 0o644 }));
    const { result, size } = await withFileSink(outPath, 'none', async (sink) => {
      const w = new TarWriter(sink);
      for (const e of entries) await w.add(e);
      return w.finish();
    });
    return { digest: result.diffID, size, results };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
