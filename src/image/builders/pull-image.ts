// image/builders/pull-image: `builtin:pull-image`, the builder of dockerTools.pullImage (a
// fixed-output derivation): `skopeo copy docker://NAME@DIGEST docker-archive:…` into the build's
// scratch dir, then the archive is re-written by imgeval's own deterministic writer
// (image/registry/normalise.ts: same layers, same config bytes, same image ID) as $out, so the
// output hash depends only on the image, not on skopeo's version. The scheduler checks the hash
// afterwards (nothing is registered on a mismatch). Credentials are never in the derivation:
// skopeo finds them in the user's auth files. Writes only $out and its scratch dir.

import { join } from 'node:path';
import type { BuiltinBuilder } from '../../build/builder-registry.js';
import { fixedOutput } from '../../derivation/derivation.js';
import { repoTag } from '../image.js';
import { normaliseDockerArchive } from '../registry/normalise.js';
import { DIGEST } from '../registry/reference.js';
import { skopeoPull } from '../registry/skopeo.js';
import { buildError, outDir, u } from './common.js';

const NAME = 'pull-image';

export const pullImage: BuiltinBuilder = {
  name: NAME,
  doc:
    `builtin:${NAME}: pulls env 'imageName'@'imageDigest' with skopeo (for 'os'/'arch', 'tlsVerify' = "1" or "") ` +
    "and writes it as imgeval's deterministic docker-archive tagged 'finalImageName':'finalImageTag' to $out; " +
    'a fixed-output derivation (flat sha256 of the archive).',
  async run(ctx) {
    if (!fixedOutput(ctx.drv)) throw buildError(NAME, `'builtin:${NAME}' must be a fixed-output derivation (give sha256 or hash)`);
    const get = (k: string): string => {
      const v = ctx.env.get(k);
      if (v === undefined) throw buildError(NAME, `missing attribute '${k}'`);
      return u(v);
    };
    const imageName = get('imageName');
    const imageDigest = get('imageDigest');
    if (!DIGEST.test(imageDigest)) throw buildError(NAME, `'imageDigest' must be 'sha256:' and 64 lowercase hex digits, but is '${imageDigest}'`);
    const finalRef = repoTag(get('finalImageName'), get('finalImageTag'));
    const spec = { imageName, imageDigest, os: get('os'), arch: get('arch'), tlsVerify: get('tlsVerify') !== '' };
    const pulled = join(ctx.tmpDir, 'pulled.tar');
    ctx.log(`pulling ${imageName}@${imageDigest} (${spec.os}/${spec.arch}) with skopeo`);
    await skopeoPull(spec, pulled, finalRef, ctx.tmpDir, ctx.signal);
    const out = outDir(ctx, NAME);
    const w = await normaliseDockerArchive(pulled, out, finalRef, join(ctx.tmpDir, 'normalise'));
    ctx.log(`wrote ${finalRef}: image ${w.configDigest}, ${w.diffIDs.length} layer(s), ${w.size} bytes`);
  },
};
