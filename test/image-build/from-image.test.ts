// fromImage accepts any docker-archive — one from buildImage (also without manifest.json: the
// legacy `repositories` + `parent` chain), from buildLayeredImage, from skopeo (layers as
// top-level blobs, symlinked members), with a layer listed twice, gzip-compressed — and refuses
// hostile or broken ones (members escaping with `..` or absolute names, symlinks or hard links
// pointing outside, truncated or non-tar files) with a clear error, writing nothing outside the
// build. Also: includeNixDB on top of a base with a Nix database merges the two databases.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isImgError } from '../../src/base/error.js';
import { TarWriter, fdSink, type TarEntry } from '../../src/image/tar-writer.js';
import { ROOT, needTool } from '../helpers/tools.js';
import { buildImg, imageCheck, nixDbCheck, tarCat, tempStore, type Built } from './helpers.js';

const test = suite('fromImage');
const store = tempStore('imgeval-fromimage-');
const scratch = mkdtempSync(join(tmpdir(), 'imgeval-fromimage-fx-'));
const searchPath = [{ prefix: 'imglib', path: join(ROOT, 'examples', 'lib') }];
let bases: Map<string, Built>;
const haveOracle = () => needTool('image-check', 'skopeo', 'podman', 'umoci', 'oci-image-tool');

const BASES = `let h = import <imglib/image-helpers.img>; in {
  layered = buildLayeredImage { name = "base-layered"; tag = "1"; contents = [ h.busybox ]; config.Env = [ "PATH=/bin" "FROM=base" ]; };
  plain = buildImage { name = "base-plain"; tag = "1"; copyToRoot = h.busybox; config.Env = [ "PATH=/bin" ]; };
  withdb = buildLayeredImageWithNixDb { name = "base-db"; tag = "1"; contents = [ h.busybox ]; };
}`;

/** A buildImage on top of the archive at `file`, adding /etc/added. */
const onTop = (file: string, extra = '') => `buildImage {
  name = "on-top"; tag = "1"; fromImage = ${file};
  ${extra.includes('copyToRoot') ? '' : 'copyToRoot = writeTextDir "etc/added" "added on top\\n";'}
  config.Cmd = [ "/bin/sh" ];
  ${extra}
}`;

async function buildOnTop(file: string, extra = ''): Promise<Built> {
  const r = await buildImg(store.root, { expr: onTop(file, extra), searchPath });
  return r.get('')!;
}

function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  assert.is(r.status, 0, `${cmd}: ${r.stderr}`);
  return r.stdout;
}

test.before(async () => {
  bases = await buildImg(store.root, { expr: BASES, searchPath });
});

test('a buildLayeredImage archive as fromImage: layers kept, Env inherited, the file on top', async () => {
  const b = await buildOnTop(bases.get('layered')!.physical);
  const cfg = JSON.parse(tarCat(b.physical, JSON.parse(tarCat(b.physical, 'manifest.json').toString())[0].Config).toString());
  assert.ok(cfg.config.Env.includes('FROM=base'), String(cfg.config.Env));
  if (haveOracle()) {
    const r = imageCheck(b.physical, 'on-top:1', ['/bin/sh', '-c', 'cat /etc/added']);
    assert.ok(r.ok && r.output.includes('added on top'), r.output);
  }
});

test('a skopeo-written archive (top-level blobs, symlinked layer.tar) as fromImage', async () => {
  if (!needTool('skopeo fixture', 'skopeo')) return;
  const f = join(scratch, 'skopeo-base.tar');
  sh(`skopeo copy -q docker-archive:${bases.get('layered')!.physical} docker-archive:${f}:skopeo/base:1`);
  assert.ok(sh(`tar -tvf ${f}`).includes('layer.tar -> ../'), 'the fixture has symlinked members');
  const b = await buildOnTop(f);
  if (haveOracle()) {
    const r = imageCheck(b.physical, 'on-top:1', ['/bin/sh', '-c', 'cat /etc/added']);
    assert.ok(r.ok && r.output.includes('added on top'), r.output);
  }
});

test('an archive whose manifest lists a layer twice (nixpkgs#214434) as fromImage', async () => {
  if (!needTool('skopeo fixture', 'skopeo')) return;
  const dir = mkdtempSync(join(scratch, 'repeat-'));
  sh(`skopeo copy -q docker-archive:${bases.get('layered')!.physical} docker-archive:${dir}.tar:repeat/base:1 && tar -xf ${dir}.tar -C ${dir}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const cfg = JSON.parse(readFileSync(join(dir, manifest[0].Config), 'utf8'));
  manifest[0].Layers.push(manifest[0].Layers[0]);
  cfg.rootfs.diff_ids.push(cfg.rootfs.diff_ids[0]);
  cfg.history = [...(cfg.history ?? []), { created: '1970-01-01T00:00:01Z' }];
  const cfgBytes = JSON.stringify(cfg);
  const cfgName = `${sh(`printf '%s' '${cfgBytes}' | sha256sum`).slice(0, 64)}.json`;
  rmSync(join(dir, manifest[0].Config));
  writeFileSync(join(dir, cfgName), cfgBytes);
  manifest[0].Config = cfgName;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const f = join(scratch, 'repeated-layer.tar');
  sh(`cd ${dir} && tar -cf ${f} *`);
  const b = await buildOnTop(f);
  const layers = JSON.parse(tarCat(b.physical, 'manifest.json').toString())[0].Layers;
  assert.is(layers.length, manifest[0].Layers.length + 1);
  if (haveOracle()) {
    const r = imageCheck(b.physical, 'on-top:1', ['/bin/sh', '-c', 'exit 0']);
    assert.ok(r.ok, r.output);
  }
});

test('an old archive without manifest.json: repositories + the parent chain of the layer json files', async () => {
  const dir = mkdtempSync(join(scratch, 'legacy-'));
  sh(`tar -xf ${bases.get('plain')!.physical} -C ${dir} && rm ${dir}/manifest.json`);
  const f = join(scratch, 'legacy.tar');
  sh(`cd ${dir} && tar -cf ${f} *`);
  const b = await buildOnTop(f);
  if (haveOracle()) {
    const r = imageCheck(b.physical, 'on-top:1', ['/bin/sh', '-c', 'cat /etc/added']);
    assert.ok(r.ok && r.output.includes('added on top'), r.output);
  }
});

test('a gzip-compressed base archive', async () => {
  const f = join(scratch, 'base.tar.gz');
  sh(`gzip -nc ${bases.get('layered')!.physical} > ${f}`);
  const b = await buildOnTop(f);
  if (haveOracle()) assert.ok(imageCheck(b.physical, 'on-top:1', ['/bin/sh', '-c', 'cat /etc/added']).ok);
});

test('includeNixDB on a base with a Nix database merges them (base paths stay valid)', async () => {
  const b = await buildOnTop(bases.get('withdb')!.physical, 'includeNixDB = true; copyToRoot = [ (writeTextDir "etc/added" "added on top\\n") (writeScriptBin "tool" "#!/bin/sh\\necho tool") ];');
  const root = mkdtempSync(join(scratch, 'rootfs-'));
  const m = JSON.parse(tarCat(b.physical, 'manifest.json').toString())[0];
  for (const l of m.Layers) sh(`tar -xOf ${b.physical} '${l}' | tar -xf - -C ${root}`);
  const paths = sh(`sqlite3 ${root}/nix/var/nix/db/db.sqlite 'select path from ValidPaths'`);
  assert.match(paths, /-busybox\n/, 'the base image paths');
  assert.match(paths, /-tool\n/, 'the new paths');
  if (needTool('nix-db-check', 'nix-store', 'sqlite3', 'jq')) {
    const n = nixDbCheck(root);
    assert.ok(n.ok, n.output);
  }
});

test('includeNixDB in a layered image on a base with a Nix database merges them too', async () => {
  const r = await buildImg(store.root, {
    expr: `let h = import <imglib/image-helpers.img>; in buildLayeredImageWithNixDb { name = "layered-db-on-db"; tag = "1"; fromImage = ${bases.get('withdb')!.physical}; contents = [ (writeScriptBin "tool2" "#!/bin/sh\\necho tool2") ]; }`,
    searchPath,
  });
  const b = r.get('')!;
  const root = mkdtempSync(join(scratch, 'rootfs-'));
  const m = JSON.parse(tarCat(b.physical, 'manifest.json').toString())[0];
  for (const l of m.Layers) sh(`tar -xOf ${b.physical} '${l}' | tar -xf - -C ${root}`);
  const paths = sh(`sqlite3 ${root}/nix/var/nix/db/db.sqlite 'select path from ValidPaths'`);
  assert.match(paths, /-busybox\n/, 'the base image paths');
  assert.match(paths, /-tool2\n/, 'the new paths');
  if (needTool('nix-db-check', 'nix-store', 'sqlite3', 'jq')) {
    const n = nixDbCheck(root);
    assert.ok(n.ok, n.output);
  }
});

// ---------- hostile and broken archives ----------

async function writeTarAsync(file: string, entries: TarEntry[]): Promise<void> {
  const fd = openSync(file, 'w');
  try {
    const w = new TarWriter(fdSink(fd));
    for (const e of entries) await w.add(e);
    await w.finish();
  } finally {
    closeSync(fd);
  }
}
const O = { uid: 0, gid: 0, uname: '', gname: '' };
const file = (name: string, data: string | Buffer): TarEntry => ({ type: 'file', name, mode: 0o644, mtime: 1, owner: O, size: Buffer.from(data).length, source: { data: Buffer.from(data) } });

/** A minimal valid archive's members, with `extra` added and the layer named `layerName`. */
function archiveEntries(extra: TarEntry[], layerName = 'l/layer.tar', layerEntry?: TarEntry): TarEntry[] {
  const layer = readFileSync(join(scratch, 'empty-layer.tar'));
  const diff = `sha256:${sh(`sha256sum ${join(scratch, 'empty-layer.tar')}`).slice(0, 64)}`;
  const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diff] } });
  const manifest = JSON.stringify([{ Config: 'c.json', RepoTags: ['bad:1'], Layers: [layerName] }]);
  return [layerEntry ?? file(layerName, layer), file('c.json', cfg), file('manifest.json', manifest), ...extra];
}

const HOSTILE: [string, () => TarEntry[], RegExp][] = [
  ['a member climbing out with ..', () => archiveEntries([file('../escaped-by-imgeval-test', 'x')]), /climbs out with '\.\.'/],
  ['a member with an absolute name', () => archiveEntries([file('/tmp/escaped-by-imgeval-test-abs', 'x')]), /absolute name/],
  ['a layer that is a symlink pointing outside', () => archiveEntries([], 'l/layer.tar', { type: 'symlink', name: 'l/layer.tar', target: '../../../../etc/passwd', mode: 0o777, mtime: 1, owner: O }), /pointing outside|symlink/],
  ['a layer that is a hard link to outside', () => archiveEntries([], 'l/layer.tar', { type: 'hardlink', name: 'l/layer.tar', target: '../etc/passwd', mode: 0o644, mtime: 1, owner: O }), /climbs out|outside|hard link/],
];

test('hostile fromImage archives are refused with a clear error, nothing written outside', async () => {
  await writeTarAsync(join(scratch, 'empty-layer.tar'), [file('hello', 'hi\n')]);
  for (const [what, entries, msg] of HOSTILE) {
    const f = join(scratch, `hostile-${what.replace(/\W+/g, '-')}.tar`);
    await writeTarAsync(f, entries());
    let err: unknown;
    try {
      await buildOnTop(f);
    } catch (e) {
      err = e;
    }
    assert.ok(isImgError(err), `${what}: expected an ImgError, got ${String(err)}`);
    assert.match((err as Error).message, msg, `${what}: ${(err as Error).message}`);
  }
  assert.not.ok(existsSync('/tmp/escaped-by-imgeval-test-abs'));
  assert.not.ok(existsSync(join(store.root, 'nix', 'store', '..', 'escaped-by-imgeval-test')));
});

test('truncated and non-tar fromImage files are refused with a clear error', async () => {
  const good = bases.get('plain')!.physical;
  const cut = join(scratch, 'truncated.tar');
  sh(`head -c ${Math.floor(statSync(good).size / 2)} ${good} > ${cut}`);
  const junk = join(scratch, 'junk.tar');
  writeFileSync(junk, Buffer.alloc(4096, 7));
  for (const f of [cut, junk]) {
    let err: unknown;
    try {
      await buildOnTop(f);
    } catch (e) {
      err = e;
    }
    assert.ok(isImgError(err), `${f}: expected an ImgError, got ${String(err)}`);
    assert.match((err as Error).message, /truncated|corrupt|not a|tar|checksum|unexpected/i, (err as Error).message);
  }
});

// ---------- exportImage: whiteouts applied, hostile layer members refused ----------

async function layeredArchive(name: string, layers: TarEntry[][]): Promise<string> {
  const members: TarEntry[] = [];
  const diffs: string[] = [];
  const names: string[] = [];
  for (const [i, l] of layers.entries()) {
    const f = join(scratch, `${name}-layer-${i}.tar`);
    await writeTarAsync(f, l);
    diffs.push(`sha256:${sh(`sha256sum ${f}`).slice(0, 64)}`);
    names.push(`l${i}/layer.tar`);
    members.push(file(`l${i}/layer.tar`, readFileSync(f)));
  }
  const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffs } });
  members.push(file('c.json', cfg), file('manifest.json', JSON.stringify([{ Config: 'c.json', RepoTags: [`${name}:1`], Layers: names }])));
  const out = join(scratch, `${name}.tar`);
  await writeTarAsync(out, members);
  return out;
}
const dir = (name: string): TarEntry => ({ type: 'directory', name, mode: 0o755, mtime: 1, owner: O });

test('exportImage applies whiteouts (.wh.name, opaque directories) and refuses escaping layer members', async () => {
  const good = await layeredArchive('wh', [
    [dir('a/'), file('a/file1', '1'), file('a/file2', '2'), dir('b/'), file('b/x', 'x'), dir('c/'), file('c/gone', 'g')],
    [file('a/.wh.file1', ''), dir('b/'), file('b/.wh..wh..opq', ''), file('b/y', 'y'), file('.wh.c', '')],
  ]);
  const r = await buildImg(store.root, { expr: `exportImage { fromImage = ${good}; name = "wh-export.tar"; }` });
  const names = sh(`tar -tf ${r.get('')!.physical}`).split('\n').filter(Boolean);
  assert.equal(names, ['./', './a/', './a/file2', './b/', './b/y']);
  const bad = await layeredArchive('escape', [[file('../escaped-by-imgeval-export', 'x')]]);
  let err: unknown;
  try {
    await buildImg(store.root, { expr: `exportImage { fromImage = ${bad}; name = "bad-export.tar"; }` });
  } catch (e) {
    err = e;
  }
  assert.ok(isImgError(err), String(err));
  assert.match((err as Error).message, /climbs out with '\.\.'/);
  assert.not.ok(existsSync(join(store.root, 'nix', 'store', '..', 'escaped-by-imgeval-export')));
});

test.after(() => {
  store.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});
test.run();

