// cli/prelude: loads the prelude (src/prelude/prelude.img) into an EvalState as globals. The
// names are declared here statically, because the global scope must be known before anything
// is parsed; the file itself is read, parsed and evaluated only when one of them is first
// forced, so start-up (`imgeval eval -E 1`) never pays for it. Never evaluates anything else.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { ImgError } from '../base/error.js';
import { SourceFile } from '../base/source.js';
import type { EvalExtension, EvalState } from '../eval/index.js';
import { Attrs, force, type Lazy, type Value } from '../eval/value.js';

/** The globals the prelude defines (the attribute names of prelude.img's value). */
export const PRELUDE_NAMES: readonly string[] = [
  'buildEnv',
  'fetchurl',
  'linkFarm',
  'runCommand',
  'symlinkJoin',
  'writeScript',
  'writeScriptBin',
  'writeShellScript',
  'writeShellScriptBin',
  'writeText',
  'writeTextDir',
];

/** The globals of src/prelude/docker-tools.img (the image functions, and the `dockerTools` set). */
export const DOCKER_TOOLS_NAMES: readonly string[] = [
  'buildImage',
  'buildImageWithNixDb',
  'buildLayeredImage',
  'buildLayeredImageWithNixDb',
  'convertImage',
  'dockerTools',
  'exportImage',
  'mergeImages',
  'pullImage',
  'streamLayeredImage',
];

/** Where prelude.img is: beside src/cli when run from source, src/prelude from dist/cli. */
export function preludeFile(base = 'prelude.img'): string {
  for (const rel of [`../prelude/${base}`, `../../src/prelude/${base}`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(`internal error: src/prelude/${base} is missing from the installation`);
}

const loaded = new WeakMap<EvalState, Map<string, Attrs>>();

/** The prelude's attribute set in `st` (read and evaluated once per state). */
export function preludeValue(st: EvalState, base = 'prelude.img'): Attrs {
  let perState = loaded.get(st);
  if (perState === undefined) loaded.set(st, (perState = new Map()));
  let a = perState.get(base);
  if (a === undefined) {
    const file = preludeFile(base);
    const path = Buffer.from(file, 'utf8').toString('latin1');
    const src = new SourceFile(path, readFileSync(file).toString('latin1'), Buffer.from(dirname(file), 'utf8').toString('latin1'));
    const v = st.evalSource(src);
    if (!(v instanceof Attrs)) throw new Error('internal error: the prelude is not an attribute set');
    a = v;
    perState.set(base, a);
  }
  return a;
}

/** The prelude as an extension: one lazy global per name. */
export function preludeExtension(): EvalExtension {
  return {
    globals: [
      ...PRELUDE_NAMES.map((name) => ({ name, base: 'prelude.img' })),
      ...DOCKER_TOOLS_NAMES.map((name) => ({ name, base: 'docker-tools.img' })),
    ].map(({ name, base }) => ({
      name,
      value: (st: EvalState): Value => {
        const x: Lazy | undefined = preludeValue(st, base).m.get(name);
        if (x === undefined) throw new ImgError('E_EVAL', `internal error: the prelude does not define '${name}'`);
        return force(x);
      },
    })),
  };
}
