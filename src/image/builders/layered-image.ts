// image/builders/layered-image: buildLayeredImage / streamLayeredImage.
// `builtin:image-customisation-layer`: the top layer — `contents` merged as symlinks into the
// store (symlinkJoin, first wins), the Nix database when asked, `extraCommands`, then
// `fakeRootCommands` under fakeroot (their chown/chmod land in the tar headers, no root needed);
// `$out/layer.tar` + `$out/checksum`. Its references (found by the scheduler's scan) are what the
// image must carry.
// `builtin:layered-image-conf`: the closure of those references and of the config, split into
// store layers (size-based "auto" by default, or "popularity"), each layer's diffID, size and
// CRC-32 (from the layer-digest cache, else tarred into a hashing sink, nothing written), the
// image config; `$out` is the conf JSON the archive writer and the stream program read.
// `builtin:layered-image`: writes the archive of a conf (manifest-only layout) to $out; when
// uncompressed, hashes its NAR and scans it for references in the same pass (the length is
// known from the conf; the SHA-256 on a second thread) and hands them to the scheduler.
// `writeLayeredArchive` is the streaming writer both the builder and `imgeval stream-image` use:
// sizes and digests come from the conf, so it needs no seekable output, and every layer's bytes
// are checked as they are written: against the conf's diffID when streamed, against its CRC-32
// of the same bytes in the archive builder (whose output gets its one SHA-256 pass, the NAR
// hash).
// Never reads the clock unless `created`/`mtime` = "now"; never writes outside $out, scratch and
// the layer-digest cache.

import { existsSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ImgError } from '../../base/error.js';
import type { BuiltinBuilder, BuiltinBuildContext } from '../../build/builder-registry.js';
import { symlinkJoin } from '../../build/builtins/symlink-join.js';
import { NarHashThread } from '../../build/nar-hash-thread.js';
import { NarFileHasher } from '../../build/nar-file-hash.js';
import { epochSeconds, makeImageConfig, pythonIsoTime } from '../config.js';
import { readDockerArchive, type BaseImage } from '../docker-archive.js';
import { jsonBytes, ordered } from '../json.js';
import { ROOT_OWNER, layerEntries, storePathSources, writeTarFile, type LayerSource, type StoreLocation } from '../layer.js';
import { autoLayers, availableLayers, popularityLayers, type GraphNode } from '../layering.js';
import { writeNixDb } from '../nix-db.js';
import { TarWriter, tarSize, withFileSink, type ByteSink, type TarEntry, type TarOwner } from '../tar-writer.js';
import { compressionOf, createdTime, dbPathsOf, openBase, parseConfig, withBaseEnv } from './build-image.js';
import {
  SOURCE_DATE_EPOCH,
  baseStorePaths,
  buildError,
  digestEntries,
  fsPath,
  hashPart,
  imageArgs,
  layerCacheKey,
  outDir,
  readLayerCache,
  runCommands,
  runFakeRoot,
  storeLocation,
  storePathsIn,
  u,
  writeLayerCache,
  writeReadOnly,
  type LayerDigest,
} from './common.js';

// ---------------------------------------------------------------- customisation layer

interface CustomArgs {
  contents: string[];
  extraCommands: string;
  fakeRootCommands: string;
  enableFakechroot: boolean;
  includeNixDB: boolean;
  /** Set only with includeNixDB: the base image whose Nix database is merged. */
  fromImage?: string;
}

const CUSTOM = 'image-customisation-layer';

export const customisationLayer: BuiltinBuilder = {
  name: CUSTOM,
  doc:
    "builtin:image-customisation-layer: the top layer of a layered image. Reads env 'imageArgs' (JSON: contents, " +
    'extraCommands, fakeRootCommands, includeNixDB); $out/layer.tar holds the contents as symlinks into the store ' +
    '(first wins), the commands\' files and the ownership fakeRootCommands gave them; $out/checksum its sha256.',
  async run(ctx) {
    const a = imageArgs<CustomArgs>(ctx, CUSTOM);
    if (a.enableFakechroot) throw buildError(CUSTOM, "'enableFakechroot' (proot) is not supported; use paths relative to the layer root in fakeRootCommands");
    const out = outDir(ctx, CUSTOM);
    mkdirSync(out);
    const dir = join(ctx.tmpDir, 'layer');
    // Directories are merged as symlinks; every content path (a file or a symlink too) is listed
    // in $out/contents, so the scheduler's reference scan puts it in the image's closure.
    writeReadOnly(join(out, 'contents'), a.contents.join('\n') + '\n');
    const dirs = a.contents.filter((p) => {
      try {
        return statSync(fsPath(ctx.store.toPhysical(p))).isDirectory() && !lstatSync(fsPath(ctx.store.toPhysical(p))).isSymbolicLink();
      } catch {
        return false;
      }
    });
    if (dirs.length > 0) {
      await symlinkJoin.run({
        ...ctx,
        env: new Map([['paths', dirs.join(' ')], ['ignoreCollisions', '1']]),
        outputTemps: new Map([['out', dir]]),
      });
    } else mkdirSync(dir);
    if (a.includeNixDB) {
      const closure = ctx.store.computeFSClosure(a.contents);
      // Going further than nixpkgs: a base image's database is merged, not shadowed.
      const baseDb = join(ctx.tmpDir, 'base-db.sqlite');
      const base = a.fromImage ? await openBase(ctx, a.fromImage, '', join(ctx.tmpDir, 'base')) : undefined;
      const inBase = await baseStorePaths(base, ctx.store.storeDir, baseDb);
      writeNixDb({
        root: dir,
        paths: dbPathsOf(ctx, CUSTOM, closure),
        gcroots: a.contents,
        registrationTime: SOURCE_DATE_EPOCH,
        ...(inBase.hasDb ? { baseDb } : {}),
      });
    }
    await runCommands(ctx, CUSTOM, 'extraCommands', a.extraCommands, dir);
    const overrides = await runFakeRoot(ctx, CUSTOM, a.fakeRootCommands, dir);
    const entries = layerEntries({
      sources: [{ kind: 'tree', from: Buffer.from(dir, 'utf8').toString('latin1'), to: '/' }],
      mtime: SOURCE_DATE_EPOCH,
      owner: ROOT_OWNER,
      overrides,
    });
    const layer = await writeTarFile(entries, join(out, 'layer.tar'));
    writeReadOnly(join(out, 'checksum'), layer.diffID.slice('sha256:'.length));
    ctx.log(`customisation layer: ${entries.length} entries, ${overrides.length} ownership changes, ${layer.diffID}`);
  },
};

// ---------------------------------------------------------------- conf

interface ConfArgs {
  imageName: string;
  tag: string | null;
  customisationLayer: string;
  fromImage: string;
  config: string;
  architecture: string;
  created: string;
  mtime: string;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  maxLayers: number;
  includeStorePaths: boolean;
  layering: 'auto' | 'popularity';
}

/** What the archive writer needs (the file `<name>-conf.json`). */
export interface LayeredConf {
  version: 1;
  repoTag: string;
  /** mtime of store-layer entries and of the archive's members (seconds). */
  mtime: number;
  owner: TarOwner;
  fromImage: string;
  baseLayers: { diffID: string; size: number }[];
  /** crc32: of the layer's bytes (absent in confs of older imgeval versions). */
  storeLayers: { paths: string[]; diffID: string; size: number; crc32?: number }[];
  customisationLayer: { path: string; diffID: string; size: number };
  /** The exact config bytes (binary string). */
  config: string;
}

/** The entries of a store layer: `/nix` and `/nix/store` (0755) then the paths, sorted. */
export function storeLayerEntries(paths: readonly string[], loc: StoreLocation, mtime: number, owner: TarOwner): TarEntry[] {
  const sources: LayerSource[] = [
    { kind: 'directory', to: '/nix', mode: 0o755 },
    { kind: 'directory', to: loc.storeDir, mode: 0o755 },
    ...storePathSources(paths, loc),
  ];
  return layerEntries({ sources, mtime, owner });
}

/** Uncompressed size of each base layer (counted by decompressing when it is stored compressed). */
async function baseLayerInfo(base: BaseImage): Promise<{ diffID: string; size: number }[]> {
  const out: { diffID: string; size: number }[] = [];
  for (const l of base.layers) {
    if (l.compression === 'none') {
      out.push({ diffID: l.diffID, size: l.storedSize });
      continue;
    }
    let size = 0;
    for await (const c of l.open()) size += (c as Buffer).length;
    out.push({ diffID: l.diffID, size });
  }
  return out;
}

const CONF = 'layered-image-conf';

export const layeredImageConf: BuiltinBuilder = {
  name: CONF,
  doc:
    "builtin:layered-image-conf: plans a layered image. Reads env 'imageArgs' (JSON: imageName, tag, customisationLayer, " +
    'fromImage, config, architecture, created, mtime, uid, gid, uname, gname, maxLayers, includeStorePaths, layering); ' +
    '$out is the conf JSON: the store layers (paths, diffID, size), base and customisation layers, config and tag.',
  async run(ctx) {
    const a = imageArgs<ConfArgs>(ctx, CONF);
    const out = outDir(ctx, CONF);
    const loc = storeLocation(ctx);
    const custom = a.customisationLayer;
    const roots = a.includeStorePaths
      ? [...ctx.store.queryReferences(custom), ...storePathsIn(ctx, a.config)].filter((p) => p !== custom)
      : [];
    // The closure and its reference graph in one walk (two database queries).
    for (const p of roots) if (!ctx.store.isValidPath(p)) throw buildError(CONF, `'${p}' is not valid in the store`);
    const infos = new Map<string, GraphNode>();
    for (const [p, i] of ctx.store.queryClosureGraph(roots)) infos.set(p, { path: p, narSize: i.narSize, references: i.references });
    infos.delete(custom);
    const closure = [...infos.keys()].sort();
    const graph: GraphNode[] = closure.map((p) => infos.get(p)!);
    const base = a.fromImage ? await readDockerArchive(ctx.store.toPhysical(a.fromImage), { workDir: join(ctx.tmpDir, 'base') }) : undefined;
    const baseLayers = base ? await baseLayerInfo(base) : [];
    // Each `contents` path (the application: what changes most often) gets a store layer of its
    // own on top when the budget allows, so that a new version of one re-ships that layer only;
    // the rest of the closure is split by the chosen strategy (nixpkgs#48462). A one-path layer
    // has the same diffID in every image, so these are shared too.
    const contentsFile = fsPath(`${ctx.store.toPhysical(custom)}/contents`);
    const own = new Set(
      (existsSync(contentsFile) ? readFileSync(contentsFile, 'latin1').split('\n') : []).filter((p) => closure.includes(p)),
    );
    let groups: string[][] = [];
    const available = availableLayers(a.maxLayers, baseLayers.length);
    if (graph.length > 0) {
      const separate = own.size > 0 && own.size < graph.length && available - own.size >= 1;
      const limit = separate ? available - own.size : available;
      const exclude = separate ? own : new Set<string>();
      groups = a.layering === 'popularity' ? popularityLayers(graph, limit, exclude) : autoLayers(graph, limit, exclude);
      if (separate) for (const p of [...own].sort()) groups.push([p]);
    }
    const mtime = a.mtime === 'now' ? Math.floor(Date.now() / 1000) : epochSeconds(a.mtime);
    const owner: TarOwner = { uid: a.uid, gid: a.gid, uname: a.uname, gname: a.gname };
    const storeLayers: LayeredConf['storeLayers'] = [];
    let cached = 0;
    for (const paths of groups) {
      const key = layerCacheKey(paths, mtime, owner, 0o755);
      let d: LayerDigest | undefined = readLayerCache(ctx, key);
      if (d) cached++;
      else {
        d = await digestEntries(storeLayerEntries(paths, loc, mtime, owner));
        writeLayerCache(ctx, key, d);
      }
      storeLayers.push({ paths, diffID: d.diffID, size: d.size, crc32: d.crc32 });
    }
    const customPath = `${custom}/layer.tar`;
    const customDiff = `sha256:${readFileSync(fsPath(`${ctx.store.toPhysical(custom)}/checksum`), 'latin1').trim()}`;
    const customSize = statSync(fsPath(ctx.store.toPhysical(customPath))).size;
    const created = createdTime(a.created);
    const isoCreated = pythonIsoTime(created);
    const diffIDs = [...baseLayers.map((l) => l.diffID), ...storeLayers.map((l) => l.diffID), customDiff];
    const history = [
      ...(base?.layers ?? []).map((l) => ({ created: isoCreated, comment: `store paths: ['${l.member}']` })),
      ...storeLayers.map((l) => ({ created: isoCreated, comment: `store paths: [${l.paths.map((p) => `'${p}'`).join(', ')}]` })),
      { created: isoCreated, comment: `store paths: ['${custom}']` },
    ];
    const config = makeImageConfig(
      {
        architecture: a.architecture,
        created: isoCreated,
        config: withBaseEnv(parseConfig(a.config), base, true) ?? {},
        diffIDs,
        history,
      },
      'streamLayeredImage',
    );
    const tag = a.tag ?? hashPart(ctx.outputs.get('out')!);
    const conf: LayeredConf = {
      version: 1,
      repoTag: `${a.imageName}:${tag}`,
      mtime,
      owner,
      fromImage: a.fromImage,
      baseLayers,
      storeLayers,
      customisationLayer: { path: customPath, diffID: customDiff, size: customSize },
      config: config.bytes.toString('latin1'),
    };
    writeReadOnly(out, Buffer.from(JSON.stringify(conf, null, 1), 'latin1'));
    ctx.log(`conf ${conf.repoTag}: ${closure.length} store paths in ${storeLayers.length} store layers (${a.layering}; ${cached} digests from the cache), ${baseLayers.length} base layers`);
  },
};

// ---------------------------------------------------------------- the archive

export function readConf(physical: string): LayeredConf {
  let conf: LayeredConf;
  try {
    conf = JSON.parse(readFileSync(fsPath(physical), 'latin1')) as LayeredConf;
  } catch (e) {
    throw new ImgError('E_IMAGE', `'${u(physical)}' is not a layered-image conf: ${(e as Error).message}`);
  }
  if (conf.version !== 1 || !Array.isArray(conf.storeLayers)) throw new ImgError('E_IMAGE', `'${u(physical)}' is not a layered-image conf of this imgeval version`);
  return conf;
}

/** Archives from this size on are NAR-hashed on a second thread. */
const NAR_THREAD_MIN = 64 << 20;

/** Passes bytes on while feeding them to a NAR hasher. */
function narSink(inner: ByteSink, nar: NarFileHasher | NarHashThread): ByteSink {
  return {
    write(c) {
      const hashed = nar.update(c);
      const written = inner.write(c);
      if (!hashed) return written;
      return written ? Promise.all([hashed, written]).then(() => {}) : hashed;
    },
    ...(inner.end ? { end: () => inner.end!() } : {}),
  };
}

/** A sink that computes the CRC-32 of what passes and checks it against the conf's at the end. */
class CrcCheckedSink implements ByteSink {
  private crc = 0;
  constructor(private readonly inner: ByteSink) {}
  write(c: Buffer) {
    this.crc = crc32(c, this.crc);
    return this.inner.write(c);
  }
  check(want: number, what: string): void {
    if (this.crc !== want) throw new ImgError('E_IMAGE', `${what} has CRC-32 ${this.crc}, but the conf says ${want} (was a store path modified?)`);
  }
}

/** A sink that hashes what passes and checks it against `want` at the end. */
class CheckedSink implements ByteSink {
  private readonly h = createHash('sha256');
  size = 0;
  constructor(private readonly inner: ByteSink) {}
  write(c: Buffer) {
    this.h.update(c);
    this.size += c.length;
    return this.inner.write(c);
  }
  check(want: string, what: string): void {
    const got = `sha256:${this.h.digest('hex')}`;
    if (got !== want) throw new ImgError('E_IMAGE', `${what} has diffID ${got}, but the conf says ${want} (was a store path modified?)`);
  }
}

/** The members of a conf's archive, in order, each once (a layer shared by two places is written once). */
type ArchiveWrite =
  | { kind: 'base'; name: string; size: number; index: number }
  | { kind: 'store'; name: string; size: number; index: number }
  | { kind: 'custom'; name: string; size: number }
  | { kind: 'data'; name: string; size: number; data: Buffer };

interface ArchivePlan {
  /** Layer members in manifest order (repeats included). */
  members: string[];
  /** What is written: base layer i, store layer i, the customisation layer, or bytes (config, manifest). */
  writes: ArchiveWrite[];
}

function planArchive(conf: LayeredConf): ArchivePlan {
  const members: string[] = [];
  const writes: ArchivePlan['writes'] = [];
  const seen = new Set<string>();
  const memberOf = (diffID: string) => `${diffID.slice('sha256:'.length)}/layer.tar`;
  const layer = (diffID: string, w: (name: string) => ArchiveWrite) => {
    const name = memberOf(diffID);
    members.push(name);
    if (seen.has(name)) return;
    seen.add(name);
    writes.push(w(name));
  };
  conf.baseLayers.forEach((l, index) => layer(l.diffID, (name) => ({ kind: 'base', name, size: l.size, index })));
  conf.storeLayers.forEach((l, index) => layer(l.diffID, (name) => ({ kind: 'store', name, size: l.size, index })));
  layer(conf.customisationLayer.diffID, (name) => ({ kind: 'custom', name, size: conf.customisationLayer.size }));
  const cfg = Buffer.from(conf.config, 'latin1');
  const cfgName = `${createHash('sha256').update(cfg).digest('hex')}.json`;
  writes.push({ name: cfgName, size: cfg.length, kind: 'data', data: cfg });
  const manifest = jsonBytes([ordered([['Config', cfgName], ['RepoTags', [conf.repoTag]], ['Layers', members]])], 'python');
  writes.push({ name: 'manifest.json', size: manifest.length, kind: 'data', data: manifest });
  return { members, writes };
}

function memberEntry(conf: LayeredConf, name: string, size: number): TarEntry & { type: 'file' } {
  return { type: 'file', name, mode: 0o644, mtime: conf.mtime, owner: ROOT_OWNER, size, source: { data: Buffer.alloc(0) } };
}

/** The length of the (uncompressed) archive writeLayeredArchive writes for `conf`, known before writing. */
export function layeredArchiveSize(conf: LayeredConf): number {
  return tarSize(planArchive(conf).writes.map((w) => memberEntry(conf, w.name, w.size)));
}

/**
 * Writes the docker-archive of `conf` (manifest-only layout, as stream_layered_image.py) into
 * `sink`: base layers copied (decompressed), store layers tarred from the store, the
 * customisation layer, the config, manifest.json. Ends the sink. Every layer's bytes are checked
 * as they pass: against its diffID (SHA-256, the default: what `stream-image` does), or with
 * `check: 'crc32'` store layers against the conf's CRC-32 of the same bytes (computed with the
 * diffID), when the caller hashes the whole output anyway (the archive builder: one SHA-256
 * pass instead of two).
 */
export async function writeLayeredArchive(
  conf: LayeredConf,
  loc: StoreLocation,
  sink: ByteSink,
  workDir: string,
  check: 'sha256' | 'crc32' = 'sha256',
): Promise<{ size: number }> {
  const outer = new TarWriter(sink, { hash: false });
  const plan = planArchive(conf);
  const base = conf.baseLayers.length > 0 ? await readDockerArchive(loc.toPhysical(conf.fromImage), { workDir }) : undefined;
  if (base && base.layers.length !== conf.baseLayers.length) throw new ImgError('E_IMAGE', `the base image '${u(conf.fromImage)}' changed since the conf was made`);
  for (const w of plan.writes) {
    const entry = memberEntry(conf, w.name, w.size);
    if (w.kind === 'base') {
      const l = base!.layers[w.index]!;
      const want = conf.baseLayers[w.index]!;
      await outer.addFileFrom(entry, async (s) => {
        const c = new CheckedSink(s);
        for await (const chunk of l.open()) await c.write(chunk as Buffer);
        c.check(want.diffID, `base layer '${u(l.member)}'`);
      });
    } else if (w.kind === 'store') {
      const l = conf.storeLayers[w.index]!;
      await outer.addFileFrom(entry, async (s) => {
        const what = `the store layer of ${l.paths.length} paths`;
        if (check === 'crc32' && l.crc32 !== undefined) {
          const c = new CrcCheckedSink(s);
          const inner = new TarWriter(c, { hash: false });
          for (const e of storeLayerEntries(l.paths, loc, conf.mtime, conf.owner)) await inner.add(e);
          await inner.finish();
          c.check(l.crc32, what);
          return;
        }
        const c = new CheckedSink(s);
        const inner = new TarWriter(c, { hash: false });
        for (const e of storeLayerEntries(l.paths, loc, conf.mtime, conf.owner)) await inner.add(e);
        await inner.finish();
        c.check(l.diffID, what);
      });
    } else if (w.kind === 'custom') {
      await outer.add({ ...entry, source: { path: loc.toPhysical(conf.customisationLayer.path) } });
    } else await outer.add({ ...entry, source: { data: w.data } });
  }
  const r = await outer.finish();
  return { size: r.size };
}

/** Streams the archive of the conf at `confPhysical` to `sink` (the `stream-image` command). */
export async function streamLayeredImage(confPhysical: string, loc: StoreLocation, sink: ByteSink, workDir: string): Promise<void> {
  const conf = readConf(confPhysical);
  mkdirSync(workDir, { recursive: true });
  await writeLayeredArchive(conf, loc, sink, workDir);
}

interface ArchiveArgs {
  conf: string;
  compressor: 'none' | 'gz' | 'zstd';
}

const ARCHIVE = 'layered-image';

export const layeredImage: BuiltinBuilder = {
  name: ARCHIVE,
  doc:
    "builtin:layered-image: buildLayeredImage's archive. Reads env 'imageArgs' (JSON: conf, compressor); $out is the " +
    'docker-archive (manifest-only layout) the conf describes, compressed as asked.',
  async run(ctx: BuiltinBuildContext) {
    const a = imageArgs<ArchiveArgs>(ctx, ARCHIVE);
    const out = outDir(ctx, ARCHIVE);
    const conf = readConf(ctx.store.toPhysical(a.conf));
    const loc = storeLocation(ctx);
    const compression = compressionOf(a.compressor);
    // Uncompressed, the archive's length is known before it is written: its NAR hash and
    // references are computed in the same pass as the bytes go to the file (on a second thread
    // for big archives, beside the layers' diffID checks on this one), so the scheduler does not
    // read the archive again. (Compressed, the length is not known up front; the scheduler
    // hashes the smaller file afterwards.)
    let nar: NarFileHasher | NarHashThread | undefined;
    if (compression === 'none') {
      const length = layeredArchiveSize(conf);
      nar = length >= NAR_THREAD_MIN ? new NarHashThread(length, ctx.referenceCandidates) : new NarFileHasher(length, ctx.referenceCandidates);
    }
    let size: number;
    try {
      ({ size } = await withFileSink(out, compression, async (sink) =>
        (await writeLayeredArchive(conf, loc, nar ? narSink(sink, nar) : sink, join(ctx.tmpDir, 'base'), 'crc32')).size,
      ));
      if (nar) ctx.outputHashed('out', await nar.finish());
    } finally {
      if (nar instanceof NarHashThread) await nar.close();
    }
    ctx.log(`archive ${conf.repoTag}: ${conf.baseLayers.length + conf.storeLayers.length + 1} layers, ${size} bytes`);
  },
};


