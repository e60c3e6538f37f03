// The upstream dockerTools scenarios that need no VM, docker daemon or network
// (reference/dockertools.md §6), built from scenarios.img into one store and each held against
// ../shared/oracles/image-check (podman loads it under its name:tag, skopeo converts it to OCI,
// oci-image-tool validates, umoci unpacks, and the scenario's command runs in the root
// filesystem), plus the assertion upstream makes (tags, created, Env, layer counts, owners…).
// Nix-database images are also held against nix-db-check on their unpacked root filesystem.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, needTool } from '../helpers/tools.js';
import { buildImg, imageCheck, nixDbCheck, streamToFile, tarCat, tarList, tempStore, type Built } from './helpers.js';

const test = suite('image-build scenarios');
const store = tempStore('imgeval-scenarios-');
const scratch = mkdtempSync(join(tmpdir(), 'imgeval-scn-'));
const searchPath = [{ prefix: 'imglib', path: join(ROOT, 'examples', 'lib') }];
let built: Map<string, Built>;
const haveOracle = () => needTool('image-check', 'skopeo', 'podman', 'umoci', 'oci-image-tool');

/** The plain docker-archive of a scenario: streamed into a file, or decompressed, as needed. */
const archives = new Map<string, string>();
async function archive(key: string): Promise<string> {
  const cached = archives.get(key);
  if (cached) return cached;
  const b = built.get(key);
  assert.ok(b, `scenario ${key} was not built`);
  let file = b!.physical;
  if (b!.outPath.includes('/stream-') || (!b!.outPath.endsWith('.tar') && !/\.tar\.(gz|zst)$/.test(b!.outPath) && b!.conf)) {
    file = join(scratch, `${key}.tar`);
    await streamToFile(store.root, b!.conf!, file);
  } else if (file.endsWith('.gz') || file.endsWith('.zst')) {
    const out = join(scratch, `${key}.tar`);
    const r = spawnSync('sh', ['-c', `${file.endsWith('.gz') ? 'gzip' : 'zstd -q'} -dc '${file}' > '${out}'`]);
    assert.is(r.status, 0, String(r.stderr));
    file = out;
  }
  archives.set(key, file);
  return file;
}

function manifestOf(file: string): { Config: string; RepoTags: string[]; Layers: string[] }[] {
  return JSON.parse(tarCat(file, 'manifest.json').toString('latin1'));
}
function configOf(file: string): Record<string, any> {
  return JSON.parse(tarCat(file, manifestOf(file)[0]!.Config).toString('latin1'));
}
/** `tar -tvf` lines of every layer of the archive, in order. */
function layerListings(file: string): string[][] {
  return manifestOf(file)[0]!.Layers.map((l) => {
    const r = spawnSync('sh', ['-c', `tar -xOf '${file}' '${l}' | tar -tvf -`], { encoding: 'latin1', maxBuffer: 1 << 28 });
    assert.is(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  });
}
function check(key: string, file: string, ref: string, cmd: string[] = [], expect?: string): string {
  const r = imageCheck(file, ref, cmd);
  assert.ok(r.ok, `${key}: ${r.output}`);
  if (expect !== undefined) assert.ok(r.output.includes(expect), `${key}: expected '${expect}' in ${r.output}`);
  return r.output;
}
const ref = (key: string) => `${built.get(key)!.imageName}:${built.get(key)!.imageTag}`;

test.before(async () => {
  built = await buildImg(store.root, { file: join(ROOT, 'test', 'image-build', 'scenarios.img'), searchPath });
});

test('s01 helloOnRoot: a streamed image whose Cmd runs', async () => {
  if (!haveOracle()) return;
  check('s01', await archive('s01-helloOnRoot'), ref('s01-helloOnRoot'), ['/bin/hello'], 'Hello, world!');
});

test('s02/s03 helloOnRootNoStore: no nix/store entries at all; the image loads', async () => {
  const f = await archive('s02-helloOnRootNoStore');
  const all = layerListings(f).flat();
  assert.ok(all.some((l) => / bin\/hello -> \/nix\/store\//.test(l)), 'the symlinks are there');
  assert.not.ok(all.some((l) => / (\.\/)?nix\/store\//.test(l)), all.join('\n'));
  assert.is(manifestOf(f)[0]!.Layers.length, 1);
  if (haveOracle()) check('s02', f, ref('s02-helloOnRootNoStore'));
});

test('s05 bash: created is 1970-01-01T00:00:01Z, the tag is imageTag, the shell runs', async () => {
  const f = await archive('s05-bash');
  assert.is(configOf(f).created, '1970-01-01T00:00:01Z');
  assert.is(built.get('s05-bash')!.imageTag, 'latest');
  if (haveOracle()) check('s05', f, 'bash:latest', ['/bin/sh', '-c', 'echo sh-runs'], 'sh-runs');
});

for (const key of ['s06-bashNoTag', 's07-bashNoTagLayered', 's08-bashNoTagStreamLayered', 's09-nixLayered']) {
  test(`${key}: without a tag, the archive's tag is imageTag (the hash part of the output or conf path)`, async () => {
    const b = built.get(key)!;
    assert.match(b.imageTag!, /^[0-9a-df-np-sv-z]{32}$/);
    const hashOf = (p: string) => p.slice('/nix/store/'.length, '/nix/store/'.length + 32);
    assert.is(b.imageTag, hashOf(b.conf ?? b.outPath));
    const f = await archive(key);
    assert.equal(manifestOf(f)[0]!.RepoTags, [`${b.imageName}:${b.imageTag}`]);
    if (haveOracle()) check(key, f, `${b.imageName}:${b.imageTag}`);
  });
}

test('s10 compression: zstd and gz archives are what their names say and load once decompressed', async () => {
  for (const key of ['s10-bashZstdCompressed', 's10-bashGzCompressed', 's10-bashLayeredZstdCompressed', 's10-bashLayeredGzCompressed']) {
    const b = built.get(key)!;
    const gz = b.outPath.endsWith('.tar.gz');
    assert.ok(gz || b.outPath.endsWith('.tar.zst'), b.outPath);
    const t = spawnSync(gz ? 'gzip' : 'zstd', ['-t', '-q', b.physical]);
    assert.is(t.status, 0, `${key}: ${t.stderr}`);
    if (haveOracle()) check(key, await archive(key), ref(key));
  }
});

async function rootfsOf(key: string): Promise<string> {
  const f = await archive(key);
  const dir = mkdtempSync(join(scratch, 'rootfs-'));
  for (const l of manifestOf(f)[0]!.Layers) {
    const r = spawnSync('sh', ['-c', `tar -xOf '${f}' '${l}' | tar -xf - -C '${dir}'`]);
    assert.is(r.status, 0, String(r.stderr));
  }
  return dir;
}

test('s11 nix (buildImageWithNixDb) and s09 nixLayered: the Nix database passes nix-db-check', async () => {
  if (!needTool('nix-db-check', 'nix-store', 'sqlite3', 'jq')) return;
  for (const key of ['s11-nix', 's09-nixLayered']) {
    const n = nixDbCheck(await rootfsOf(key));
    assert.ok(n.ok, `${key}: ${n.output}`);
    assert.match(n.output, /checked [2-9]\d* paths/);
  }
  if (haveOracle()) check('s11', await archive('s11-nix'), 'nix:latest', ['/bin/sh', '-c', 'ls /nix/var/nix/gcroots/docker | wc -l'], '-> 2');
});

test('s12 bashLayeredWithUser: /nix and /nix/store are mode 755 in every store layer', async () => {
  const ls = layerListings(await archive('s12-bashLayeredWithUser'));
  const store = ls.slice(0, -1);
  assert.ok(store.length >= 2);
  for (const l of store) {
    assert.match(l[0]!, /^drwxr-xr-x .* nix\/$/);
    assert.match(l[1]!, /^drwxr-xr-x .* nix\/store\/$/);
  }
  if (haveOracle()) check('s12', await archive('s12-bashLayeredWithUser'), ref('s12-bashLayeredWithUser'), ['/bin/sh', '-c', 'grep somebody /etc/passwd'], 'somebody:x:999');
});

test('s13/s14 symlinks stay symlinks (buildImage copyToRoot and layered store paths)', async () => {
  if (!haveOracle()) return;
  check('s13', await archive('s05-bash'), 'bash:latest', ['/bin/readlink', '/bin/sh'], '-> busybox');
  const bbPath = layerListings(await archive('s07-bashNoTagLayered')).flat().find((l) => /-busybox\/bin\/sh -> busybox$/.test(l))!;
  assert.ok(bbPath, 'the busybox store path keeps bin/sh -> busybox');
});

test('s16 nginx-like: extraCommands directories and ExposedPorts', async () => {
  const f = await archive('s16-nginx');
  assert.equal(configOf(f).config.ExposedPorts, { '80/tcp': {} });
  if (haveOracle()) check('s16', f, 'nginx:latest', ['/bin/sh', '-c', 'test -d /tmp/nginx_client_body && test -d /var/log/nginx && echo dirs-ok'], 'dirs-ok');
});

test('s19/s20 created = "now" is not the epoch', async () => {
  for (const key of ['s19-unstableDate', 's20-unstableDateLayered']) {
    const c = configOf(await archive(key));
    assert.not.match(String(c.created), /^1970-01-01/);
    assert.ok(Math.abs(Date.parse(c.created) - Date.now()) < 3600_000, c.created);
  }
});

test('s21 layered-image: runs, and the extraCommands file is there', async () => {
  if (!haveOracle()) return;
  check('s21', await archive('s21-layeredImage'), 'layered-image:latest', ['/bin/hello'], 'Hello, world!');
  check('s21', await archive('s21-layeredImage'), 'layered-image:latest', ['/bin/cat', '/extraCommands'], 'created by extraCommands');
});

test('s22 layered-on-top (the seed case): a buildImage on a buildLayeredImage runs, WorkingDir and Env kept', async () => {
  const f = await archive('s22-layeredOnTop');
  const base = await archive('s21-layeredImage');
  const c = configOf(f);
  assert.equal(c.rootfs.diff_ids.slice(0, -1), configOf(base).rootfs.diff_ids, 'the base layers come first, unchanged');
  assert.is(c.config.WorkingDir, '/example-output');
  if (haveOracle()) check('s22', f, 'layered-on-top:latest', ['/bin/sh', '-c', 'cd /example-output && echo hello > test && cat test && stat -c %a /example-output'], '777');
});

test('s23 layered-on-top-layered: a layered image on a layered image runs', async () => {
  const f = await archive('s23-layeredOnTopLayered');
  const base = await archive('s21-layeredImage');
  const n = configOf(base).rootfs.diff_ids.length;
  assert.equal(configOf(f).rootfs.diff_ids.slice(0, n), configOf(base).rootfs.diff_ids);
  if (haveOracle()) check('s23', f, 'layered-on-top-layered:latest', ['/bin/hello'], 'Hello, world!');
});

test('s24 layers are shared between two layered images', async () => {
  const a = new Set<string>(configOf(await archive('s21-layeredImage')).rootfs.diff_ids);
  const b: string[] = configOf(await archive('s24-anotherLayeredImage')).rootfs.diff_ids;
  assert.ok(b.some((d) => a.has(d)), 'no common layer');
});

test('s25 layersOrder (the seed case): three chained buildImages override files in order', async () => {
  const f = await archive('s25-layersOrder');
  assert.is(manifestOf(f)[0]!.Layers.length, 3);
  if (haveOracle()) check('s25', f, 'layers-order:latest', ['/bin/sh', '-c', 'echo $(cat /tmp/layer1 /tmp/layer2 /tmp/layer3)'], 'layer1 layer2 layer3');
});

test('s28/s29/s30 Env: inherited from the parent, overridden by the child, one LAST_LAYER', async () => {
  for (const key of ['s28-environmentVariables', 's29-environmentVariablesLayered']) {
    const env: string[] = configOf(await archive(key)).config.Env;
    assert.ok(env.includes('FROM_PARENT=true') && env.includes('FROM_CHILD=true') && env.includes('LAST_LAYER=child'), `${key}: ${env}`);
    assert.is(env.filter((e) => e.startsWith('LAST_LAYER=')).length, 1, `${key}: ${env}`);
  }
});

test('s31/s32/s33 maxLayers: 2 → one store layer with everything; a 2-layer base + maxLayers 4 → 4 layers', async () => {
  assert.is(manifestOf(await archive('s31-twoLayeredImage'))[0]!.Layers.length, 2);
  const bulk = await archive('s32-bulkLayer');
  assert.is(manifestOf(bulk)[0]!.Layers.length, 2);
  assert.is(manifestOf(await archive('s33-layeredBulkLayer'))[0]!.Layers.length, 4);
  if (haveOracle()) {
    check('s32', bulk, 'bulk-layer:latest', ['/bin/sh', '-c', 'ls /bin/hello && /bin/hello'], 'Hello, world!');
    check('s33', await archive('s33-layeredBulkLayer'), 'layered-bulk-layer:latest', ['/bin/hello'], 'Hello, world!');
  }
});

test('s34 no-store-paths: build-time-only dependencies stay out of the image', async () => {
  const f = await archive('s34-noStorePaths');
  assert.not.ok(layerListings(f).flat().some((l) => / nix\/store\//.test(l)));
  if (haveOracle()) check('s34', f, 'no-store-paths:latest', ['/bin/busybox', 'cat', '/ran'], 'build-time-run');
});

test('s36/s49 architecture = "arm64" is in the config', async () => {
  assert.is(configOf(await archive('s36-cross')).architecture, 'arm64');
});

test('s37 a store path that is itself a symlink stays a symlink', async () => {
  const all = layerListings(await archive('s37-layeredStoreSymlink')).flat();
  assert.ok(all.some((l) => /^l.* nix\/store\/[0-9a-z]{32}-store-symlink -> \/nix\/store\/.*-hello$/.test(l)), all.join('\n'));
});

test('s38/s39 names with a registry prefix keep it', async () => {
  for (const key of ['s38-prefixedImage', 's39-prefixedLayeredImage']) {
    const f = await archive(key);
    assert.match(manifestOf(f)[0]!.RepoTags[0]!, /^registry-1\.docker\.io\/(layered-)?image:latest$/);
    if (haveOracle()) check(key, f, manifestOf(f)[0]!.RepoTags[0]!);
  }
});

test('s40/s44 fakeRootCommands: chown lands in the tar headers; store paths it links to are included', async () => {
  const f = await archive('s40-layeredImageWithFakeRootCommands');
  if (!haveOracle()) return;
  check('s40', f, ref('s40-layeredImageWithFakeRootCommands'), ['/bin/sh', '-c', 'stat -c %u /home/alice'], '-> 1000');
  check('s44', f, ref('s40-layeredImageWithFakeRootCommands'), ['/hello/bin/layeredImageWithFakeRootCommands-hello'], 'Hello from fakeroot');
});

test('s41/s42/s45 mergeImages: every image (gz, zstd, plain, no tag) is in the merged archive', async () => {
  const f = await archive('s41-mergedImages');
  const tags = manifestOf(f).flatMap((m) => m.RepoTags);
  for (const t of ['merged-gz:latest', 'merged-zstd:latest', 'merged-plain:latest']) assert.ok(tags.includes(t), `${t} in ${tags}`);
  assert.ok(tags.some((t) => /^merged-no-tag:[0-9a-z]{32}$/.test(t)), String(tags));
  if (!haveOracle()) return;
  // skopeo reads only single-image docker-archives ("expected 1 item"), so image-check cannot
  // take the merged archive whole: podman loads it (every tag must be listed), and each image,
  // cut out with its own manifest entry, passes image-check on its own.
  const whole = imageCheck(f, 'merged-plain:latest');
  const loaded = /^loaded: (.*)$/m.exec(whole.output)?.[1] ?? '';
  for (const t of tags) assert.ok(loaded.includes(t), `${t} loaded by podman: ${whole.output}`);
  const dir = mkdtempSync(join(scratch, 'merged-'));
  assert.is(spawnSync('tar', ['-xf', f, '-C', dir]).status, 0);
  const manifest = manifestOf(f);
  for (const [i, m] of manifest.entries()) {
    const one = join(scratch, `merged-${i}.tar`);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([m]));
    const members = ['manifest.json', m.Config, ...new Set(m.Layers)];
    const r = spawnSync('tar', ['-cf', one, '-C', dir, '--dereference', ...members]);
    assert.is(r.status, 0, String(r.stderr));
    const t = m.RepoTags[0]!;
    if (t === 'merged-plain:latest') check('s41', one, t, ['/bin/hello'], 'Hello, world!');
    else check('s41', one, t, ['/bin/sh', '-c', 'echo ok'], '-> ok');
  }
});

test('s46 exportImage: one flat tar of the root filesystem', async () => {
  const names = tarList(built.get('s46-exportBash')!.physical);
  assert.ok(names.includes('./bin/hello'), names.slice(0, 20).join('\n'));
  assert.ok(names.includes('./extraCommands'));
  assert.ok(names.some((n) => /^\.\/nix\/store\/[0-9a-z]{32}-busybox\/bin\/busybox$/.test(n)));
  assert.equal(names, [...names].sort((a, b) => (a.replaceAll('/', '\0') < b.replaceAll('/', '\0') ? -1 : 1)));
});

test('s48 a plain source directory in copyToRoot / contents lands at /', async () => {
  if (!haveOracle()) return;
  for (const key of ['s48-buildImageWithPath', 's48-layeredImageWithPath']) {
    check(key, await archive(key), ref(key), ['/bin/cat', '/hello.txt'], 'hello from a plain directory');
  }
});

test('s52/s53 chown to 12345:12345; uid/gid/uname/gname of store layers', async () => {
  const f = await archive('s53-nonRootTestImage');
  const store = layerListings(f).slice(0, -1).flat();
  assert.ok(store.length > 0 && store.every((l) => / user\/user /.test(l)), store.slice(0, 3).join('\n'));
  if (!haveOracle()) return;
  check('s52', await archive('s52-chownTestImage'), 'chown-test:latest', ['/bin/sh', '-c', 'stat -c %u:%g /testfile'], '-> 12345:12345');
  check('s53', f, 'non-root-test:latest', ['/bin/sh', '-c', 'echo runs'], 'runs');
});

test.after(() => {
  store.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

test.run();
