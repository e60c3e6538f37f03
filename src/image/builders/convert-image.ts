// image/builders/convert-image: `builtin:convert-image`, behind `convertImage` and
// `imgeval build --format`: re-writes a docker-archive (any imgeval image, a pulled one, any
// `docker save`) as an OCI image layout directory (`oci-dir`), an OCI archive (`oci-archive`,
// a tar of the layout) or imgeval's deterministic docker-archive (`docker-archive`). The config
// bytes are kept unchanged, so the image ID survives; the tag becomes the index's
// `org.opencontainers.image.ref.name`. Writes only $out and its scratch dir.

import { join } from 'node:path';
import type { BuiltinBuildContext, BuiltinBuilder } from '../../build/builder-registry.js';
import { readDockerArchive, writeDockerArchive } from '../docker-archive.js';
import type { Layer } from '../layer.js';
import { writeOciArchive, writeOciLayout } from '../oci-layout.js';
import type { Compression } from '../tar-writer.js';
import { buildError, imageArgs, outDir, u } from './common.js';

const NAME = 'convert-image';

interface Args {
  image: string;
  format: 'oci-dir' | 'oci-archive' | 'docker-archive';
  compression: Compression;
  /** `name:tag` to select in a multi-image archive ('' for the first). */
  ref: string;
}

export const convertImage: BuiltinBuilder = {
  name: NAME,
  doc:
    `builtin:${NAME}: env 'imageArgs' = JSON { image (a docker-archive in the store), format ("oci-dir", "oci-archive" ` +
    'or "docker-archive"), compression (of OCI layer blobs: "none", "gzip", "zstd"), ref }; $out is the image in that ' +
    'format, with the same config bytes (image ID) and the tag as org.opencontainers.image.ref.name.',
  async run(ctx: BuiltinBuildContext) {
    const a = imageArgs<Args>(ctx, NAME);
    if (!['oci-dir', 'oci-archive', 'docker-archive'].includes(a.format)) throw buildError(NAME, `unknown format '${a.format}'`);
    const src = ctx.store.toPhysical(a.image);
    const img = await readDockerArchive(u(src), { workDir: join(ctx.tmpDir, 'decompressed'), ...(a.ref ? { ref: a.ref } : {}) });
    if (!img.configBytes || !img.configDigest) throw buildError(NAME, `'${a.image}' is a legacy archive without manifest.json; it has no image config`);
    const layers: Layer[] = [];
    const seen = new Map<string, Layer>();
    for (const [i, l] of img.layers.entries()) {
      let layer = seen.get(l.diffID);
      if (!layer) {
        layer = await l.copyTo(join(ctx.tmpDir, `layer-${i}.tar`));
        seen.set(l.diffID, layer);
      }
      layers.push(layer);
    }
    const config = { bytes: img.configBytes, digest: img.configDigest };
    const repoTag = img.repoTags[0];
    const tag = repoTag ? repoTag.slice(repoTag.lastIndexOf(':') + 1) : undefined;
    const out = u(outDir(ctx, NAME));
    if (a.format === 'docker-archive') {
      await writeDockerArchive(out, [{ config, layers, repoTags: repoTag ? [repoTag] : [] }], { layout: 'streamLayeredImage', mtime: 1 });
    } else if (a.format === 'oci-dir') {
      const [r] = await writeOciLayout(out, [{ config, layers, ...(tag ? { refName: tag } : {}) }], { compression: a.compression });
      ctx.log(`OCI layout: manifest ${r!.manifestDigest}, config ${r!.configDigest}`);
    } else {
      const w = await writeOciArchive(out, [{ config, layers, ...(tag ? { refName: tag } : {}) }], 1, { compression: a.compression });
      ctx.log(`OCI archive: manifest ${w.results[0]!.manifestDigest}, config ${w.results[0]!.configDigest}`);
    }
  },
};
