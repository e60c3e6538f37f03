// Test helpers for image tests: a temporary "store" directory holding store-like paths (busybox,
// a text file), a StoreLocation for it, and a runner for the shared image-check oracle.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { StoreLocation } from '../../src/image/layer.js';
import { ORACLES } from '../helpers/tools.js';

export const BUSYBOX = '/usr/bin/busybox';
export const BUSYBOX_PATH = '/nix/store/ap5lw0pk87zllpr8psdiqgxx50yqpp1h-busybox';
export const HELLO_PATH = '/nix/store/5pjf9r20rqi9k9z26mkhfzc45gkvzbgg-hello.txt';
export const APP_PATH = '/nix/store/wv53gfd66gi9rxiyrm4q6pmxl59x229q-app';

export interface TempStore extends StoreLocation {
  readonly root: string;
  readonly physicalStore: string;
  cleanup(): void;
}

/** A temp dir with `<root>/nix/store/{busybox,hello.txt,app}`; mtimes set to `mtime`. */
export function makeStore(mtime = 1): TempStore {
  const root = mkdtempSync(join(tmpdir(), 'imgeval-image-'));
  const store = join(root, 'nix', 'store');
  mkdirSync(store, { recursive: true });
  const bb = join(store, BUSYBOX_PATH.slice(11));
  mkdirSync(join(bb, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(bb, 'bin', 'busybox'));
  chmodSync(join(bb, 'bin', 'busybox'), 0o555);
  symlinkSync('busybox', join(bb, 'bin', 'sh'));
  const hello = join(store, HELLO_PATH.slice(11));
  writeFileSync(hello, 'hello from the store\n');
  chmodSync(hello, 0o444);
  const app = join(store, APP_PATH.slice(11));
  mkdirSync(join(app, 'bin'), { recursive: true });
  writeFileSync(join(app, 'bin', 'app'), `#!${BUSYBOX_PATH}/bin/sh\necho "app says: $(${BUSYBOX_PATH}/bin/busybox cat ${HELLO_PATH})"\n`);
  chmodSync(join(app, 'bin', 'app'), 0o555);
  for (const d of [join(bb, 'bin'), bb, join(app, 'bin'), app]) chmodSync(d, 0o555);
  for (const p of [join(bb, 'bin', 'busybox'), hello, join(app, 'bin', 'app'), join(bb, 'bin'), bb, join(app, 'bin'), app]) utimesSync(p, mtime, mtime);
  return {
    root,
    physicalStore: store,
    storeDir: '/nix/store',
    toPhysical: (p: string) => join(store, p.slice('/nix/store/'.length)),
    cleanup() {
      spawnSync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function tempDir(prefix = 'imgeval-out-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sha256File(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

/** Runs ORACLES/image-check; returns its exit status and output. */
export function imageCheck(archive: string, ref: string, cmd: string[]): { status: number; out: string } {
  const r = spawnSync(join(ORACLES, 'image-check'), [archive, ref, '--', ...cmd], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

// ---------- small images built straight from the writers ----------
import { copyToRootSources, storeLayerEntries, storePathSources, storeResolver, writeLayer, writeTarFile, type Layer, type LayerSource } from '../../src/image/layer.js';
import { makeImageConfig, type ConfigStyle } from '../../src/image/config.js';
import { writeDockerArchive, type ArchiveLayout } from '../../src/image/docker-archive.js';
import { popularityLayers } from '../../src/image/layering.js';

export const nixDirs = (mode: number): LayerSource[] => [
  { kind: 'directory', to: '/nix', mode },
  { kind: 'directory', to: '/nix/store', mode },
];

/** buildImage-like: one layer = busybox copied to / + its store path. */
export async function busyboxImage(s: TempStore, dir: string, name: string, layout: ArchiveLayout = 'buildImage', style: ConfigStyle = 'buildImage') {
  const l = await writeLayer(
    { sources: [...copyToRootSources([BUSYBOX_PATH], s), ...nixDirs(0o555), ...storePathSources([BUSYBOX_PATH], s)], mtime: 315532800, resolveAbsolute: storeResolver(s) },
    join(dir, `${name}-layer.tar`),
  );
  const config = makeImageConfig({ architecture: 'amd64', created: '1970-01-01T00:00:01Z', config: { Cmd: ['/bin/sh', '-c', 'echo hello'], Env: ['PATH=/bin', 'FROM_BASE=1'] }, diffIDs: [l.diffID] }, style);
  const a = await writeDockerArchive(join(dir, `${name}.tar`), [{ repoTags: ['example.com/busybox:1.0'], config, layers: [l] }], { layout, mtime: 315532800 });
  return { ...a, layers: [l], config };
}

/** Two layers: busybox at / (layer 1), then /etc/hello.txt + the store paths of app (layer 2). */
export async function twoLayerImage(s: TempStore, dir: string, name: string, layout: ArchiveLayout = 'buildImage') {
  const l1 = await writeLayer({ sources: [...copyToRootSources([BUSYBOX_PATH], s), ...nixDirs(0o555), ...storePathSources([BUSYBOX_PATH], s)], mtime: 1, resolveAbsolute: storeResolver(s) }, join(dir, `${name}-1.tar`));
  const l2 = await writeLayer(
    { sources: [{ kind: 'file', to: '/etc/hello.txt', mode: 0o644, data: Buffer.from('hello from layer 2\n') }, ...storePathSources([HELLO_PATH, APP_PATH], s)], mtime: 1, parentMode: 0o555 },
    join(dir, `${name}-2.tar`),
  );
  const config = makeImageConfig({ architecture: 'amd64', created: '1970-01-01T00:00:01Z', config: { Cmd: [`${APP_PATH}/bin/app`], WorkingDir: '/' }, diffIDs: [l1.diffID, l2.diffID] }, 'go');
  const a = await writeDockerArchive(join(dir, `${name}.tar`), [{ repoTags: ['example.com/two:latest'], config, layers: [l1, l2] }], { layout, mtime: 315532800 });
  return { ...a, layers: [l1, l2], config };
}

export const GRAPH = [
  { path: BUSYBOX_PATH, narSize: 2_000_000, references: [] as string[] },
  { path: HELLO_PATH, narSize: 200, references: [] as string[] },
  { path: APP_PATH, narSize: 500, references: [BUSYBOX_PATH, HELLO_PATH] },
];

/** streamLayeredImage-like: store layers by popularity (maxLayers 3) + a customisation layer of symlinks. */
export async function layeredImage(s: TempStore, dir: string, name: string, maxLayers = 3) {
  const groups = popularityLayers(GRAPH, maxLayers - 1);
  const layers: Layer[] = [];
  for (const [i, g] of groups.entries()) {
    // store layers exactly as stream_layered_image.py writes them (absolute names, list order)
    layers.push(await writeTarFile(storeLayerEntries(g, s, { mtime: 1, owner: { uid: 0, gid: 0, uname: 'root', gname: 'root' } }), join(dir, `${name}-store-${i}.tar`)));
  }
  const custom = await writeLayer(
    {
      sources: [
        { kind: 'symlink', to: '/bin/app', target: `${APP_PATH}/bin/app` },
        { kind: 'symlink', to: '/bin/sh', target: `${BUSYBOX_PATH}/bin/sh` },
        { kind: 'symlink', to: '/bin/busybox', target: `${BUSYBOX_PATH}/bin/busybox` },
      ],
      mtime: 315532800,
    },
    join(dir, `${name}-custom.tar`),
  );
  layers.push(custom);
  const config = makeImageConfig(
    {
      architecture: 'amd64',
      created: '1970-01-01T00:00:01+00:00',
      config: { Cmd: ['/bin/app'], Env: ['PATH=/bin'] },
      diffIDs: layers.map((l) => l.diffID),
      history: layers.map((_, i) => ({ created: '1970-01-01T00:00:01+00:00', comment: i < groups.length ? `store paths: ${JSON.stringify(groups[i])}` : 'customisation layer' })),
    },
    'streamLayeredImage',
  );
  const a = await writeDockerArchive(join(dir, `${name}.tar`), [{ repoTags: ['example.com/layered:v1'], config, layers }], { layout: 'streamLayeredImage', mtime: 1 });
  return { ...a, layers, config, groups };
}
