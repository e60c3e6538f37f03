// Layer writing speed: a deterministic ~1 GiB store-like closure (../shared/bench/layers/
// gen-closure.mjs, generated once and cached under $TMPDIR/imgeval-bench), split by the
// popularity contest into maxLayers = 100, written as layer tars (tar + sha256 of each layer,
// in-process, streaming) and then as a streamLayeredImage docker-archive; compared in the same
// run with `tar --sort=name -cf - … | openssl dgst -sha256` over the same files.
// Prints seconds, MB/s, the ratio (goal ≤ 2.0) and peak RSS (goal < 300 MB).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { availableLayers, popularityLayers } from '../src/image/layering.js';
import { storePathSources, writeLayer, type Layer } from '../src/image/layer.js';
import { makeImageConfig } from '../src/image/config.js';
import { writeDockerArchive, writeStreamedArchive } from '../src/image/docker-archive.js';

const SHARED = resolve(import.meta.dirname, '..', '..', 'shared');
const cache = join(process.env.IMGEVAL_BENCH_DIR ?? join(tmpdir(), 'imgeval-bench'));
const root = join(cache, 'store');
const manifestPath = `${root}.json`;

if (!existsSync(manifestPath)) {
  mkdirSync(cache, { recursive: true });
  console.log(`generating the 1 GiB closure under ${root} (cached for later runs)…`);
  const r = spawnSync(process.execPath, [join(SHARED, 'bench', 'layers', 'gen-closure.mjs'), '--root', root, '--force'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('gen-closure.mjs failed');
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
  totals: { bytes: number; files: number };
  paths: { path: string; dir: string; bytes: number; references: string[] }[];
};
const graph = manifest.paths.map((p) => ({ path: p.path, narSize: p.bytes, references: p.references }));
const store = { storeDir: '/nix/store', toPhysical: (p: string) => join(root, p.slice('/nix/store/'.length)) };
const out = join(cache, 'out');
const totalBytes = manifest.totals.bytes;
const MB = 1e6;

function baseline(): number {
  const dirs = manifest.paths.map((p) => p.dir).sort();
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', 'set -o pipefail; tar --sort=name -cf - -C "$0" "$@" | openssl dgst -sha256', root, ...dirs], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`baseline failed: ${r.stderr}`);
  return s;
}

const groups = popularityLayers(graph, availableLayers(100));
const specOf = (g: string[]) => ({
  sources: [{ kind: 'directory', to: '/nix', mode: 0o755 } as const, { kind: 'directory', to: '/nix/store', mode: 0o755 } as const, ...storePathSources(g, store)],
  mtime: 1,
  owner: { uid: 0, gid: 0, uname: 'root', gname: 'root' },
});
const makeConfig = (diffIDs: readonly string[]) =>
  makeImageConfig({ architecture: 'amd64', created: '1970-01-01T00:00:01Z', config: { Cmd: ['/bin/app'] }, diffIDs }, 'streamLayeredImage');

/** The whole layered image in one pass: every layer tarred + hashed straight into the archive. */
async function streamed(): Promise<{ secs: number; bytes: number }> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const t0 = process.hrtime.bigint();
  const a = await writeStreamedArchive(join(out, 'image.tar'), { repoTags: ['bench/app:1'], layers: groups.map(specOf), makeConfig, mtime: 1 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { secs, bytes: a.size };
}

/** Each layer as its own file (what a cached per-layer build does), then the archive copying them. */
async function layerFiles(): Promise<{ layerSecs: number; archiveSecs: number; bytes: number; n: number }> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const t0 = process.hrtime.bigint();
  const layers: Layer[] = [];
  for (const [i, g] of groups.entries()) layers.push(await writeLayer(specOf(g), join(out, `layer-${i}.tar`)));
  const t1 = process.hrtime.bigint();
  await writeDockerArchive(join(out, 'image.tar'), [{ repoTags: ['bench/app:1'], config: makeConfig(layers.map((l) => l.diffID)), layers }], { layout: 'streamLayeredImage', mtime: 1 });
  const t2 = process.hrtime.bigint();
  return { layerSecs: Number(t1 - t0) / 1e9, archiveSecs: Number(t2 - t1) / 1e9, bytes: layers.reduce((n, l) => n + l.size, 0), n: layers.length };
}

const rounds = Number(process.env.ROUNDS ?? 2);
let best = { secs: Infinity, bytes: 0 };
let bestBase = Infinity;
for (let i = 0; i < rounds; i++) {
  const o = await streamed();
  if (o.secs < best.secs) best = o;
  bestBase = Math.min(bestBase, baseline());
}
const lf = await layerFiles();
const rss = process.resourceUsage().maxRSS / 1024;
console.log(`closure: ${manifest.paths.length} store paths, ${manifest.totals.files} files, ${(totalBytes / MB).toFixed(0)} MB of file data; ${groups.length} store layers (maxLayers 100)`);
console.log(`imgeval layered image, one pass (tar + sha256 per layer into the archive): ${best.secs.toFixed(2)} s, ${(best.bytes / MB / best.secs).toFixed(0)} MB/s`);
console.log(`tar --sort=name -cf - … | openssl dgst -sha256: ${bestBase.toFixed(2)} s, ${(totalBytes / MB / bestBase).toFixed(0)} MB/s`);
console.log(`ratio imgeval/tar: ${(best.secs / bestBase).toFixed(2)} (goal <= 2.0; best of ${rounds} rounds each, same run)`);
console.log(`imgeval ${lf.n} separate layer files: ${lf.layerSecs.toFixed(2)} s (${(lf.bytes / MB / lf.layerSecs).toFixed(0)} MB/s, ratio ${(lf.layerSecs / bestBase).toFixed(2)}), then a docker-archive copying them: +${lf.archiveSecs.toFixed(2)} s`);
console.log(`peak RSS: ${rss.toFixed(0)} MB (goal < 300 MB)`);
rmSync(out, { recursive: true, force: true });
