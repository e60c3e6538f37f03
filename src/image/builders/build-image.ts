// image/builders/build-image: buildImage's two built-in builders.
// `builtin:image-layer` makes the one new layer: `copyToRoot` merged at `/` (rsync -k/-K rules),
// the Nix database when asked, `extraCommands` run in that tree, then every store path of the
// closure of what the tree (and the config) refers to, except the paths a base layer already
// holds — written as `$out/layer.tar` (owner uid:gid for the copied part, 0:0 for store paths,
// mtime SOURCE_DATE_EPOCH) with `$out/checksum` (hex sha256, the diffID).
// `builtin:docker-image` puts the base image's layers and that layer into a docker-archive in
// the layout `docker save` writes (legacy layer folders, `repositories`, `manifest.json`),
// tagged `name:tag` (tag defaults to the hash part of its own output path), compressed as asked.
// Neither reads the clock unless `created = "now"`; neither writes outside $out and scratch.

import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltinBuilder, BuiltinBuildContext } from '../../build/builder-registry.js';
import { makeImageConfig, mergeEnv } from '../config.js';
import { readDockerArchive, writeDockerArchive, type BaseImage } from '../docker-archive.js';
import type { JsonObject } from '../json.js';
import { MEDIA_TYPE_LAYER, copyToRootSources, layerEntries, storePathSources, storeResolver, writeTarFile, type Layer, type LayerSource, type OwnershipOverride } from '../layer.js';
import { writeNixDb } from '../nix-db.js';
import type { Compression } from '../tar-writer.js';
import {
  SOURCE_DATE_EPOCH,
  baseStorePaths,
  buildError,
  fsPath,
  hashPart,
  imageArgs,
  materialise,
  outDir,
  runCommands,
  scanTree,
  storeLocation,
  storePathsIn,
  writeReadOnly,
} from './common.js';

interface LayerArgs {
  copyToRoot: string[];
  keepContentsDirlinks: boolean;
  extraCommands: string;
  uid: number;
  gid: number;
  includeNixDB: boolean;
  config: string;
  fromImage: string;
  fromImageRef: string;
}

/** Reads `fromImage` (a logical store path) when there is one. */
export async function openBase(ctx: BuiltinBuildContext, fromImage: string, ref: string, work: string): Promise<BaseImage | undefined> {
  if (!fromImage) return undefined;
  return readDockerArchive(ctx.store.toPhysical(fromImage), { ...(ref ? { ref } : {}), workDir: work });
}

/** narHash/narSize/references of store paths, for a Nix database. */
export function dbPathsOf(ctx: BuiltinBuildContext, builder: string, paths: readonly string[]) {
  return paths.map((p) => {
    const i = ctx.store.queryPathInfo(p);
    if (!i) throw buildError(builder, `'${p}' is not valid in the store`);
    return { path: p, narHash: i.narHash, narSize: i.narSize, references: i.references };
  });
}

const LAYER = 'image-layer';

export const imageLayer: BuiltinBuilder = {
  name: LAYER,
  doc:
    "builtin:image-layer: buildImage's new layer. Reads env 'imageArgs' (JSON: copyToRoot, keepContentsDirlinks, " +
    'extraCommands, uid, gid, includeNixDB, config, fromImage, fromImageRef); $out/layer.tar holds copyToRoot at / plus the ' +
    'closure of what it and the config refer to, minus the store paths of the base layers; $out/checksum its sha256.',
  async run(ctx) {
    const a = imageArgs<LayerArgs>(ctx, LAYER);
    const out = outDir(ctx, LAYER);
    mkdirSync(out);
    const loc = storeLocation(ctx);
    const sources: LayerSource[] = copyToRootSources(a.copyToRoot, loc, a.keepContentsDirlinks);
    const resolveAbsolute = storeResolver(loc);
    const inputs = storePathsIn(ctx, ctx.env.get('imageArgs') ?? '');
    const candidates = ctx.store.computeFSClosure(inputs);
    const base = await openBase(ctx, a.fromImage, a.fromImageRef, join(ctx.tmpDir, 'base'));
    const baseDb = join(ctx.tmpDir, 'base-db.sqlite');
    const inBase = await baseStorePaths(base, ctx.store.storeDir, a.includeNixDB ? baseDb : undefined);

    // The copied tree: kept virtual unless commands must run in it.
    let rootSources: LayerSource[] = sources;
    let roots: string[];
    if (a.extraCommands.trim() !== '' || a.includeNixDB) {
      const dir = join(ctx.tmpDir, 'root');
      materialise(layerEntries({ sources, mtime: SOURCE_DATE_EPOCH, resolveAbsolute }), dir);
      if (a.includeNixDB) {
        const closure = ctx.store.computeFSClosure(a.copyToRoot);
        // Going further than nixpkgs: a base image's database is merged, not shadowed.
        writeNixDb({
          root: dir,
          paths: dbPathsOf(ctx, LAYER, closure),
          gcroots: a.copyToRoot,
          registrationTime: SOURCE_DATE_EPOCH,
          ...(inBase.hasDb ? { baseDb } : {}),
        });
      }
      await runCommands(ctx, LAYER, 'extraCommands', a.extraCommands, dir);
      rootSources = [{ kind: 'tree', from: Buffer.from(dir, 'utf8').toString('latin1'), to: '/' }];
      roots = scanTree(dir, candidates);
    } else {
      roots = [];
      for (const p of a.copyToRoot) roots.push(...ctx.store.queryReferences(p));
    }
    roots.push(...storePathsIn(ctx, a.config));
    const closure = ctx.store.computeFSClosure(roots).filter((p) => !inBase.has(p));
    const storeSources: LayerSource[] = [];
    const overrides: OwnershipOverride[] = [];
    if (closure.length > 0) {
      const nixDirs = ['/nix', ctx.store.storeDir];
      if (![...inBase].length) for (const d of nixDirs) storeSources.push({ kind: 'directory', to: d, mode: 0o555 });
      storeSources.push(...storePathSources(closure, loc));
      if (a.uid !== 0 || a.gid !== 0) {
        for (const d of nixDirs) overrides.push({ path: d, uid: 0, gid: 0 });
        for (const p of closure) overrides.push({ path: p, uid: 0, gid: 0, recursive: true });
      }
    }
    const entries = layerEntries({
      sources: [...rootSources, ...storeSources],
      mtime: SOURCE_DATE_EPOCH,
      owner: { uid: a.uid, gid: a.gid, uname: '', gname: '' },
      overrides,
      ...(rootSources === sources ? { resolveAbsolute } : {}),
    });
    const layer = await writeTarFile(entries, join(out, 'layer.tar'));
    writeReadOnly(join(out, 'checksum'), layer.diffID.slice('sha256:'.length));
    ctx.log(`layer: ${entries.length} entries, ${closure.length} store paths (${inBase.size} already in the base), ${layer.size} bytes, ${layer.diffID}`);
  },
};

interface ImageArgs {
  imageName: string;
  tag: string | null;
  layer: string;
  fromImage: string;
  fromImageRef: string;
  config: string;
  architecture: string;
  created: string;
  compressor: 'none' | 'gz' | 'zstd';
}

export function compressionOf(c: string): Compression {
  return c === 'gz' ? 'gzip' : c === 'zstd' ? 'zstd' : 'none';
}

/** `created` as written, or the build time for "now" (the only clock read, asked for by the user). */
export function createdTime(created: string): string {
  return created === 'now' ? new Date().toISOString().replace(/\.\d+Z$/, 'Z') : created;
}

/** The user config (JSON text from toJSON) as an object, null for none. */
export function parseConfig(text: string): JsonObject | null {
  const v = JSON.parse(text) as unknown;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : null;
}

/** The config with `Env` = base Env + own Env, de-duplicated by name (the only inherited field). */
export function withBaseEnv(config: JsonObject | null, base: BaseImage | undefined, keepNull: boolean): JsonObject | null {
  if (!base) return config;
  const own = config && Array.isArray(config.Env) ? (config.Env as string[]).map(String) : [];
  const env = mergeEnv(base.env, own, 'dedup');
  if (!config && keepNull && env.length === 0) return null;
  return { ...(config ?? {}), Env: env };
}

const IMAGE = 'docker-image';

export const dockerImage: BuiltinBuilder = {
  name: IMAGE,
  doc:
    "builtin:docker-image: buildImage's archive. Reads env 'imageArgs' (JSON: imageName, tag, layer, fromImage, " +
    'fromImageRef, config, architecture, created, compressor); $out is a docker-archive (legacy layer folders + ' +
    'manifest.json) of the base layers and $layer/layer.tar, tagged imageName:tag.',
  async run(ctx) {
    const a = imageArgs<ImageArgs>(ctx, IMAGE);
    const out = outDir(ctx, IMAGE);
    const base = await openBase(ctx, a.fromImage, a.fromImageRef, join(ctx.tmpDir, 'base'));
    const layers: Layer[] = [];
    const seen = new Map<string, Layer>();
    if (base) {
      let i = 0;
      for (const l of base.layers) {
        let copy = seen.get(l.diffID);
        if (!copy) {
          copy = await l.copyTo(join(ctx.tmpDir, `base-${i++}.tar`));
          seen.set(l.diffID, copy);
        }
        layers.push(copy);
      }
    }
    const layerFile = `${ctx.store.toPhysical(a.layer)}/layer.tar`;
    const checksum = readFileSync(fsPath(`${ctx.store.toPhysical(a.layer)}/checksum`), 'latin1').trim();
    const size = statSync(fsPath(layerFile)).size;
    layers.push({ diffID: `sha256:${checksum}`, size, digest: `sha256:${checksum}`, blobSize: size, mediaType: MEDIA_TYPE_LAYER, path: layerFile });
    const created = createdTime(a.created);
    const config = makeImageConfig(
      {
        architecture: a.architecture,
        created,
        config: withBaseEnv(parseConfig(a.config), base, false) ?? { Env: [] },
        diffIDs: layers.map((l) => l.diffID),
      },
      'buildImage',
    );
    const tag = a.tag ?? hashPart(ctx.outputs.get('out')!);
    const w = await writeDockerArchive(out, [{ repoTags: [`${a.imageName}:${tag}`], config, layers }], {
      layout: 'buildImage',
      mtime: SOURCE_DATE_EPOCH,
      compression: compressionOf(a.compressor),
    });
    ctx.log(`image ${a.imageName}:${tag}: ${layers.length} layers, config ${config.digest}, ${w.size} bytes`);
  },
};
