// image/builders/index: the image built-in builders (buildImage, buildLayeredImage,
// streamLayeredImage, exportImage, mergeImages, pullImage, convertImage), for the composition root to add to the build
// registry: `DEFAULT_BUILTINS.with(IMAGE_BUILDERS)` (build/ never imports image/). Also the
// streaming writer behind `imgeval stream-image CONF` (what a streamLayeredImage script runs).

import type { BuiltinBuilder } from '../../build/builder-registry.js';
import { dockerImage, imageLayer } from './build-image.js';
import { customisationLayer, layeredImage, layeredImageConf } from './layered-image.js';
import { exportImage, mergeImages } from './whole-archives.js';
import { pullImage } from './pull-image.js';
import { convertImage } from './convert-image.js';

export const IMAGE_BUILDERS: readonly BuiltinBuilder[] = [imageLayer, dockerImage, customisationLayer, layeredImageConf, layeredImage, exportImage, mergeImages, pullImage, convertImage];

export { streamLayeredImage, readConf, writeLayeredArchive, type LayeredConf } from './layered-image.js';

/** The same list under the name build/realise-sync's `builtinModules` convention looks for. */
export const builders: readonly BuiltinBuilder[] = IMAGE_BUILDERS;
