// cli/bundle: whether this code runs from the single-file bundle (dist/imgeval.cjs, made by
// esbuild.config.mjs, which defines IMGEVAL_BUNDLE_DIR as the bundle's directory), and where the
// bundled entry points are then. From sources (tsx) or tsc's per-module output it says
// `undefined`, and callers use their module-relative paths. Never loads anything itself.

import { join } from 'node:path';

declare const IMGEVAL_BUNDLE_DIR: string | undefined;

/** The directory holding the bundles, when running from one. */
export const bundleDir: string | undefined = typeof IMGEVAL_BUNDLE_DIR === 'string' ? IMGEVAL_BUNDLE_DIR : undefined;

/** The bundled file of an entry point (`imgeval`, `eval-worker`), when running from a bundle. */
export function bundledEntry(name: 'imgeval' | 'eval-worker'): string | undefined {
  return bundleDir === undefined ? undefined : join(bundleDir, `${name}.cjs`);
}
