// image/registry/reference: image references as registries and skopeo see them —
// `[docker://][HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST]` — split into the registry host, the
// repository path and the tag or digest, with Docker Hub's defaults (`docker.io`,
// `library/…`, `registry-1.docker.io` as the API host). Pure: no IO.

import { ImgError } from '../../base/error.js';

export interface ImageReference {
  /** Registry host as written (`docker.io` when none): `127.0.0.1:5000`, `quay.io`. */
  readonly registry: string;
  /** Repository path inside the registry: `library/busybox`, `coreos/etcd`. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` */
  readonly digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses a reference; `docker://` is optional. Throws E_IMAGE_REF for malformed ones. */
export function parseReference(text: string): ImageReference {
  const bad = (why: string) => new ImgError('E_IMAGE_REF', `'${text}' is not a valid image reference: ${why}`);
  let s = text.startsWith('docker://') ? text.slice('docker://'.length) : text;
  if (/^[a-z][a-z0-9+-]*:\/\//.test(s)) throw bad('only docker:// references are supported');
  let digest: string | undefined;
  const at = s.indexOf('@');
  if (at >= 0) {
    digest = s.slice(at + 1);
    s = s.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`the digest '${digest}' is not 'sha256:' followed by 64 lowercase hex digits`);
  }
  let tag: string | undefined;
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) {
    tag = s.slice(colon + 1);
    s = s.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`the tag '${tag}' is not a valid tag`);
  }
  const parts = s.split('/');
  let registry = 'docker.io';
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?$/.test(registry)) throw bad(`'${registry}' is not a registry host[:port]`);
  }
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) throw bad('the repository name must be lowercase components separated by /');
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { registry, repository: parts.join('/'), ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The host the API is at (`registry-1.docker.io` for Docker Hub). */
export function apiHost(ref: ImageReference): string {
  return ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
}

/** `HOST/REPO` as skopeo's `docker://` transport takes it. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The whole reference as text (`HOST/REPO:TAG`, `HOST/REPO@DIGEST`). */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
