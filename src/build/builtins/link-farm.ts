// build/builtins/link-farm: `builtin:link-farm`, nixpkgs' linkFarm done in-process. Reads env
// `entries`, a JSON list of {"name", "path"}; $out is a directory of symlinks name → path
// (parent directories of names holding '/' are created). Never reads the linked paths.

import { mkdirSync, symlinkSync } from 'node:fs';
import { builderError, fsPath, outTemp, requireEnv, type BuiltinBuilder } from '../builder-registry.js';

const NAME = 'link-farm';

interface Entry {
  name: string;
  path: string;
}

function parseEntries(json: string): Entry[] {
  let v: unknown;
  try {
    // The env holds bytes; JSON.parse wants text: decode as UTF-8, re-encode names and paths.
    v = JSON.parse(Buffer.from(json, 'latin1').toString('utf8'));
  } catch (e) {
    throw builderError(NAME, `'entries' is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw builderError(NAME, `'entries' must be a JSON list of {"name", "path"}`);
  return v.map((x, i) => {
    if (typeof x !== 'object' || x === null || typeof x.name !== 'string' || typeof x.path !== 'string') {
      throw builderError(NAME, `entry ${i} of 'entries' must be an object with string 'name' and 'path'`);
    }
    const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    return { name: latin1(x.name), path: latin1(x.path) };
  });
}

export const linkFarm: BuiltinBuilder = {
  name: NAME,
  doc:
    "builtin:link-farm: env 'entries' = JSON list [{\"name\": N, \"path\": P}, ...]; $out is a directory where each N is a " +
    'symlink to P. Names may hold "/" (parent directories are created); absolute names, "." and ".." components and ' +
    'duplicate names are errors.',
  run(ctx) {
    const entries = parseEntries(requireEnv(ctx, NAME, 'entries'));
    const out = outTemp(ctx, NAME);
    mkdirSync(out);
    const seen = new Set<string>();
    const dirs = new Set<string>();
    for (const { name, path } of entries) {
      const parts = name.split('/');
      if (name === '' || name.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
        throw builderError(NAME, `entry name '${name}' must be a relative path without '', '.' or '..' components`);
      }
      if (seen.has(name)) throw builderError(NAME, `two entries are named '${name}'`);
      // A leaf must never become a directory (nor the reverse): the link would lead into the store.
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (seen.has(dir)) throw builderError(NAME, `entry '${name}' lies below the entry '${dir}'`);
        dirs.add(dir);
      }
      if (dirs.has(name)) throw builderError(NAME, `entry '${name}' is also a directory of other entries`);
      seen.add(name);
      if (parts.length > 1) mkdirSync(Buffer.concat([fsPath(out), fsPath('/' + parts.slice(0, -1).join('/'))]), { recursive: true });
      try {
        symlinkSync(fsPath(path), Buffer.concat([fsPath(out), fsPath('/' + name)]));
      } catch (e) {
        if ((e as { code?: string }).code === 'EEXIST' || (e as { code?: string }).code === 'ENOTDIR') {
          throw builderError(NAME, `entry '${name}' clashes with another entry`);
        }
        throw e;
      }
      ctx.log(`${name} -> ${path}`);
    }
  },
};
