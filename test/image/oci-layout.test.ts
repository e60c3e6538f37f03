// OCI image layout: oci-image-tool validates it, skopeo copies it back to a docker-archive with
// the same config digest (image ID) and diffIDs, umoci unpacks it into a root that runs, and
// podman loads the layout as a tar (oci-archive).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readDockerArchive } from '../../src/image/docker-archive.js';
import { writeOciArchive, writeOciLayout } from '../../src/image/oci-layout.js';
import { ImgError } from '../../src/base/error.js';
import { needTool } from '../helpers/tools.js';
import { APP_PATH, makeStore, sha256File, tempDir, twoLayerImage } from './helpers.js';

const test = suite('image/oci-layout');

function env(dir: string) {
  mkdirSync(join(dir, 'xdg'), { recursive: true, mode: 0o700 });
  return { ...process.env, HOME: join(dir, 'home'), TMPDIR: dir, XDG_RUNTIME_DIR: join(dir, 'xdg') };
}

test('layout (gzip and plain layers) validates, copies back with the same image ID, unpacks and runs', async () => {
  if (!needTool('OCI layout checks', 'skopeo', 'oci-image-tool', 'umoci')) return;
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await twoLayerImage(s, t.dir, 'two');
    for (const compression of ['gzip', 'none'] as const) {
      const dir = join(t.dir, `oci-${compression}`);
      const [r] = await writeOciLayout(dir, [{ config: a.config, layers: a.layers, refName: 'v1'}], { compression });
      assert.is(r!.configDigest, a.config.digest);
      if (compression === 'none') assert.equal(r!.layers.map((l) => l.digest), a.layers.map((l) => l.diffID));
      else assert.ok(r!.layers.every((l) => l.mediaType.endsWith('+gzip') && l.digest !== l.diffID));
      // rc1 does not implement --type imageLayout; --type image checks the layout, descriptors and digests
      const v = spawnSync('oci-image-tool', ['validate', '--type', 'image', '--ref', 'name=v1', dir], { encoding: 'utf8' });
      assert.is(v.status, 0, v.stdout + v.stderr);
      assert.match(v.stdout + v.stderr, /Validation succeeded/);
      const back = join(t.dir, `back-${compression}.tar`);
      execFileSync('skopeo', ['--insecure-policy', 'copy', '-q', `oci:${dir}:v1`, `docker-archive:${back}:example.com/back:v1`], { env: env(t.dir), stdio: 'pipe' });
      const img = await readDockerArchive(back);
      assert.is(img.configDigest, a.config.digest);
      assert.equal(img.layers.map((l) => l.diffID), a.layers.map((l) => l.diffID));
      const bundle = join(t.dir, `bundle-${compression}`);
      execFileSync('umoci', ['unpack', '--image', `${dir}:v1`, bundle], { env: env(t.dir), stdio: 'pipe' });
      assert.is(execFileSync('chroot', [join(bundle, 'rootfs'), `${APP_PATH}/bin/app`], { encoding: 'utf8' }), 'app says: hello from the store\n');
    }
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test('oci-archive (the layout as a tar) is deterministic and loads in podman', async () => {
  const s = makeStore();
  const t = tempDir();
  try {
    const a = await twoLayerImage(s, t.dir, 'two');
    const img = { config: a.config, layers: a.layers, refName: 'example.com/oci:v2'};
    const x = await writeOciArchive(join(t.dir, 'x.tar'), [img], 1);
    const y = await writeOciArchive(join(t.dir, 'y.tar'), [img], 1);
    assert.is(x.digest, y.digest);
    assert.is(x.digest, `sha256:${sha256File(join(t.dir, 'x.tar'))}`);
    const names = execFileSync('tar', ['-tf', join(t.dir, 'x.tar')], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(names.slice(0, 2), ['blobs/', 'blobs/sha256/']);
    assert.equal(names.slice(-2), ['index.json', 'oci-layout']);
    const index = JSON.parse(execFileSync('tar', ['-xOf', join(t.dir, 'x.tar'), 'index.json'], { encoding: 'utf8' }));
    assert.is(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'example.com/oci:v2');
    let err: unknown;
    await writeOciLayout(join(t.dir, 'bad'), [{ ...img, refName: 'bad ref' }]).catch((e) => (err = e));
    assert.ok(err instanceof ImgError && /not a valid OCI reference name/.test(err.message));
    if (!needTool('podman load of an oci-archive', 'podman')) return;
    const w = join(t.dir, 'podman');
    const P = ['--root', join(w, 'root'), '--runroot', join(w, 'run'), '--tmpdir', t.dir, '--storage-driver', 'vfs'];
    const load = spawnSync('podman', [...P, 'load', '-i', join(t.dir, 'x.tar')], { encoding: 'utf8', env: env(t.dir) });
    assert.is(load.status, 0, load.stderr);
    const ids = execFileSync('podman', [...P, 'images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { encoding: 'utf8', env: env(t.dir) });
    assert.is(ids.trim(), `example.com/oci:v2 ${a.config.digest}`);
  } finally {
    s.cleanup();
    t.cleanup();
  }
});

test.run();
