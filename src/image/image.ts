// image/image: the small read-only `Image` shape the writers share (config bytes + digest,
// layers on disk, `name:tag` references, in go-containerregistry's spirit), image reference
// checks (`lower(name):tag`, the Docker grammar), and the GOARCH name of a Node architecture.
// No IO, no clock.

import { ImgError } from '../base/error.js';
import type { ImageConfig } from './config.js';
import type { Layer } from './layer.js';
import { parseJsonBytes } from './json.js';

export interface Image {
  readonly config: ImageConfig;
  /** Bottom → top. */
  readonly layers: readonly Layer[];
  /** `name:tag` references written into archives (`RepoTags`). */
  readonly repoTags: readonly string[];
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$/;

/** `lower(name):tag` as dockerTools writes it, checked against Docker's reference grammar. */
export function repoTag(name: string, tag: string): string {
  const repo = name.toLowerCase();
  if (!TAG.test(tag)) throw new ImgError('E_IMAGE', `'${tag}' is not a valid image tag`);
  const parts = repo.split('/');
  const first = parts[0]!;
  const hasHost = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const comps = hasHost ? parts.slice(1) : parts;
  if ((hasHost && !HOST.test(first)) || comps.length === 0 || !comps.every((c) => COMPONENT.test(c))) {
    throw new ImgError('E_IMAGE', `'${name}' is not a valid image name`);
  }
  return `${repo}:${tag}`;
}

/** Go's GOARCH for a Node `process.arch` value (dockerTools' default `architecture`). */
export function goArch(nodeArch: string): string {
  const m: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsle', loong64: 'loong64' };
  const a = m[nodeArch];
  if (!a) throw new ImgError('E_IMAGE', `no Go architecture name for '${nodeArch}'`);
  return a;
}

/** `architecture` and `os` of an image's config (for OCI index platforms). */
export function platformOf(config: ImageConfig): { architecture: string; os: string } {
  const c = parseJsonBytes(config.bytes, 'the image config') as Record<string, unknown>;
  return { architecture: String(c.architecture ?? 'amd64'), os: String(c.os ?? 'linux') };
}
