// image/registry/push: uploads an image to a registry with the OCI distribution API: for each
// blob (config, layers) a HEAD says whether the repository already has it (then it is skipped),
// else an upload session (POST) and one monolithic PUT that streams the blob from its source
// (`&digest=` added to the Location with a URL parser); the manifest goes last (PUT by tag or
// digest) and the digest the registry answers is checked against our bytes. Reports what it
// uploaded and skipped through `onEvent`; never prints and never writes files.

import { ImgError } from '../../base/error.js';
import type { Credentials } from './auth.js';
import { RegistryClient, header } from './client.js';
import type { Blob, PushableImage } from './push-source.js';
import { apiHost, formatReference, type ImageReference } from './reference.js';

export interface PushOptions {
  readonly tlsVerify: boolean;
  readonly credentials?: Credentials;
  /** Blobs uploaded at once (default 3). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PushEvent) => void;
}

export type PushEvent =
  | { readonly kind: 'skip'; readonly digest: string; readonly size: number }
  | { readonly kind: 'upload'; readonly digest: string; readonly size: number }
  | { readonly kind: 'manifest'; readonly digest: string; readonly reference: string };

export interface PushResult {
  readonly manifestDigest: string;
  readonly reference: string;
  readonly uploaded: readonly { digest: string; size: number }[];
  readonly skipped: readonly { digest: string; size: number }[];
  /** Bytes sent in request bodies (blobs and manifest). */
  readonly bytesSent: number;
  readonly requests: number;
}

async function blobExists(c: RegistryClient, repo: string, b: Blob): Promise<boolean> {
  const res = await c.request('HEAD', `/v2/${repo}/blobs/${b.digest}`);
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw c.fail(`HEAD of blob ${b.digest}`, res);
}

async function uploadBlob(c: RegistryClient, repo: string, b: Blob): Promise<void> {
  const start = await c.request('POST', `/v2/${repo}/blobs/uploads/`);
  if (start.status !== 202) throw c.fail(`starting an upload of ${b.digest}`, start);
  const location = header(start, 'location');
  if (!location) throw new ImgError('E_REGISTRY', `the registry '${c.opts.registry}' started an upload without a Location`);
  const url = await c.url(location);
  url.searchParams.set('digest', b.digest);
  const res = await c.request('PUT', url.toString(), {
    headers: { 'Content-Type': 'application/octet-stream' },
    body: { size: b.size, open: () => b.open() },
  });
  if (res.status !== 201) throw c.fail(`uploading blob ${b.digest} (${b.size} bytes)`, res);
}

/** Pushes `img` to `ref` (its tag, else its digest, else `latest`). */
export async function pushImage(img: PushableImage, ref: ImageReference, opts: PushOptions): Promise<PushResult> {
  const client = new RegistryClient({
    tlsVerify: opts.tlsVerify,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    actions: 'pull,push',
    registry: ref.registry,
    apiHost: apiHost(ref),
    repository: ref.repository,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (ref.digest !== undefined && ref.digest !== img.manifestDigest) {
    throw new ImgError('E_IMAGE_REF', `cannot push to '${formatReference(ref)}': the image's manifest digest is ${img.manifestDigest}`);
  }
  const repo = ref.repository;
  const blobs = new Map<string, Blob>();
  for (const b of [img.config, ...img.layers]) if (!blobs.has(b.digest)) blobs.set(b.digest, b);
  const uploaded: { digest: string; size: number }[] = [];
  const skipped: { digest: string; size: number }[] = [];
  // The first request authenticates; the others reuse its credentials or token.
  const queue = [...blobs.values()];
  const first = queue.shift()!;
  const one = async (b: Blob) => {
    if (await blobExists(client, repo, b)) {
      skipped.push({ digest: b.digest, size: b.size });
      opts.onEvent?.({ kind: 'skip', digest: b.digest, size: b.size });
      return;
    }
    opts.onEvent?.({ kind: 'upload', digest: b.digest, size: b.size });
    await uploadBlob(client, repo, b);
    uploaded.push({ digest: b.digest, size: b.size });
  };
  await one(first);
  const workers = Array.from({ length: Math.max(1, opts.concurrency ?? 3) }, async () => {
    for (let b = queue.shift(); b; b = queue.shift()) await one(b);
  });
  await Promise.all(workers);

  const reference = ref.tag ?? ref.digest ?? 'latest';
  const res = await client.request('PUT', `/v2/${repo}/manifests/${reference}`, {
    headers: { 'Content-Type': img.manifestMediaType },
    body: img.manifest,
  });
  if (res.status !== 201) throw client.fail(`uploading the manifest of '${formatReference(ref)}'`, res);
  const said = header(res, 'docker-content-digest');
  if (said !== undefined && said !== img.manifestDigest) {
    throw new ImgError('E_REGISTRY', `the registry '${ref.registry}' stored the manifest as ${said}, but its bytes hash to ${img.manifestDigest}`);
  }
  opts.onEvent?.({ kind: 'manifest', digest: img.manifestDigest, reference });
  return { manifestDigest: img.manifestDigest, reference, uploaded, skipped, bytesSent: client.bytesSent, requests: client.requests };
}
