// image/registry/normalise: turns a pulled docker-archive (whatever skopeo's version wrote) into
// imgeval's own deterministic one: the same layers (uncompressed, diffIDs checked), the same
// config bytes (so the same image ID), one `RepoTags` entry, manifest-only layout
// (`<diffID hex>/layer.tar`, `<config hex>.json`, `manifest.json`), mtime 1, owner 0:0. So the
// same image digest always gives the same bytes and the same Nix hash. The input is untrusted:
// readDockerArchive refuses members that climb out (`..`, absolute names, links out of the
// root). Writes only `out` and files under `workDir`; never prints.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../../base/error.js';
import { readDockerArchive, writeDockerArchive, type WrittenFile } from '../docker-archive.js';
import type { Layer } from '../layer.js';

export async function normaliseDockerArchive(src: string, out: string, repoTag: string, workDir: string): Promise<WrittenFile & { configDigest: string; diffIDs: string[] }> {
  mkdirSync(workDir, { recursive: true });
  const img = await readDockerArchive(src, { workDir: join(workDir, 'decompressed') });
  if (!img.configBytes || !img.configDigest) throw new ImgError('E_ARCHIVE', `the pulled archive has no image config (no manifest.json)`);
  const layers: Layer[] = [];
  const byDiffID = new Map<string, Layer>();
  for (const [i, l] of img.layers.entries()) {
    let layer = byDiffID.get(l.diffID);
    if (!layer) {
      layer = await l.copyTo(join(workDir, `layer-${i}.tar`));
      byDiffID.set(l.diffID, layer);
    }
    layers.push(layer);
  }
  const written = await writeDockerArchive(out, [{ config: { bytes: img.configBytes, digest: img.configDigest }, layers, repoTags: [repoTag] }], {
    layout: 'streamLayeredImage',
    mtime: 1,
  });
  return { ...written, configDigest: img.configDigest, diffIDs: layers.map((l) => l.diffID) };
}
