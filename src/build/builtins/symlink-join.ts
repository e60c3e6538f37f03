// build/builtins/symlink-join: `builtin:symlink-join`, nixpkgs' symlinkJoin/buildEnv done
// in-process, lndir-style: $out merges the trees of env `paths`; directories become real
// directories, files symlinks to the logical store path of the source entry, and symlinks are
// copied (same target, as lndir does without -ignorelinks). Reads
// the inputs (physical paths) only to list them and compare colliding files; never follows a
// symlink out of an input.

import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { builderError, fsPath, outTemp, requireEnv, type BuiltinBuildContext, type BuiltinBuilder } from '../builder-registry.js';

const NAME = 'symlink-join';

type Kind = 'directory' | 'file' | 'symlink' | 'missing';

function kindOf(physical: Buffer): Kind {
  try {
    const st = lstatSync(physical);
    return st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'file';
  } catch {
    return 'missing';
  }
}

function words(s: string): string[] {
  return s.split(/[ \t\n]+/).filter((w) => w !== '');
}

/** Checks a `pathsToLink` entry or `extraPrefix`: '' or '/a/b' with no '.', '..' or empty parts. */
function relParts(what: string, p: string): string[] {
  if (p === '' || p === '/') return [];
  if (!p.startsWith('/')) throw builderError(NAME, `${what} '${p}' must start with '/'`);
  const parts = p.slice(1).replace(/\/+$/, '').split('/');
  if (parts.some((x) => x === '' || x === '.' || x === '..')) throw builderError(NAME, `${what} '${p}' has an empty, '.' or '..' component`);
  return parts;
}

/** Same file content and executable bit, or symlinks with the same target (buildEnv's checkCollision). */
function sameContent(a: Buffer, b: Buffer): boolean {
  try {
    const sa = lstatSync(a);
    const sb = lstatSync(b);
    if (sa.isSymbolicLink() && sb.isSymbolicLink()) return readlinkSync(a, { encoding: 'buffer' }).equals(readlinkSync(b, { encoding: 'buffer' }));
    if (!sa.isFile() || !sb.isFile()) return false;
    if ((sa.mode & 0o100) !== (sb.mode & 0o100) || sa.size !== sb.size) return false;
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

interface Placed {
  /** Logical path of the source entry the link points to. */
  source: string;
}

export const symlinkJoin: BuiltinBuilder = {
  name: NAME,
  doc:
    "builtin:symlink-join: merges the trees of env 'paths' (space-separated store paths) into $out, like lndir/buildEnv: " +
    "directories become real directories, files become symlinks to the source store path, symlinks are copied (lndir). 'pathsToLink' " +
    "(space-separated, default \"/\") restricts what is linked, 'extraPrefix' (\"/share\") is put before every linked " +
    "path, 'ignoreCollisions' = \"1\" keeps the first of two different files at one place instead of failing.",
  run(ctx: BuiltinBuildContext) {
    const paths = words(requireEnv(ctx, NAME, 'paths'));
    const pathsToLink = words(ctx.env.get('pathsToLink') ?? '/');
    if (pathsToLink.length === 0) pathsToLink.push('/');
    const prefix = relParts('extraPrefix', ctx.env.get('extraPrefix') ?? '');
    const ignoreCollisions = (ctx.env.get('ignoreCollisions') ?? '') !== '';
    const out = outTemp(ctx, NAME);
    mkdirSync(out);
    // rel (joined with '/') → what is there in $out
    const dirs = new Set<string>(['']);
    const links = new Map<string, Placed>();
    let nLinks = 0;

    const ensureDir = (rel: string[]): void => {
      for (let i = 1; i <= rel.length; i++) {
        const key = rel.slice(0, i).join('/');
        if (dirs.has(key)) continue;
        const clash = links.get(key);
        if (clash) throw builderError(NAME, `collision between '${clash.source}' (not a directory) and a directory of another path at '/${key}'`);
        mkdirSync(Buffer.concat([fsPath(out), fsPath('/' + key)]));
        dirs.add(key);
      }
    };
    /** A symlink at `rel`: to `target` when given (a source symlink, copied as lndir does), else to the source entry. */
    const link = (sourceLogical: string, rel: string[], target?: Buffer): void => {
      const key = rel.join('/');
      if (dirs.has(key)) {
        if (ignoreCollisions) return;
        throw builderError(NAME, `collision between '${sourceLogical}' (not a directory) and a directory at '/${key}' made by another path`);
      }
      const prev = links.get(key);
      if (prev) {
        if (prev.source === sourceLogical || sameContent(fsPath(ctx.store.toPhysical(prev.source)), fsPath(ctx.store.toPhysical(sourceLogical)))) return;
        if (ignoreCollisions) return;
        throw builderError(NAME, `collision between '${prev.source}' and '${sourceLogical}'`);
      }
      ensureDir(rel.slice(0, -1));
      symlinkSync(target ?? fsPath(sourceLogical), Buffer.concat([fsPath(out), fsPath('/' + key)]));
      links.set(key, { source: sourceLogical });
      nLinks++;
    };
    const walk = (srcLogical: string, rel: string[]): void => {
      const physical = fsPath(ctx.store.toPhysical(srcLogical));
      const k = kindOf(physical);
      if (k === 'missing') return;
      if (k !== 'directory') {
        if (rel.length === 0) throw builderError(NAME, `'${srcLogical}' is not a directory, so it cannot be merged into $out`);
        link(srcLogical, rel, k === 'symlink' ? readlinkSync(physical, { encoding: 'buffer' }) : undefined);
        return;
      }
      const key = rel.join('/');
      if (links.has(key)) {
        if (ignoreCollisions) return;
        throw builderError(NAME, `collision between '${links.get(key)!.source}' (not a directory) and the directory '${srcLogical}'`);
      }
      ensureDir(rel);
      const names = readdirSync(physical, { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort();
      for (const n of names) walk(`${srcLogical}/${n}`, [...rel, n]);
    };

    for (const p of paths) {
      if (!p.startsWith(ctx.store.storeDir + '/')) throw builderError(NAME, `'${p}' in 'paths' is not a store path`);
      for (const ptl of pathsToLink) {
        const sub = relParts('pathsToLink entry', ptl);
        const src = sub.length ? `${p}/${sub.join('/')}` : p;
        walk(src, [...prefix, ...sub]);
      }
    }
    ctx.log(`linked ${paths.length} paths: ${nLinks} symlinks, ${dirs.size} directories`);
  },
};
