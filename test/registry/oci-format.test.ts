// `imgeval build --format oci-dir|oci-archive|docker-archive` (convertImage): the OCI layout is
// accepted by oci-image-tool validate, carries the tag as org.opencontainers.image.ref.name,
// keeps the config bytes (same image ID as the docker-archive, and through skopeo's conversion
// back to docker-archive); `imgeval push` of the layout keeps its manifest digest.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { ROOT, needTool } from '../helpers/tools.js';
import { startRegistry } from '../helpers/registry.js';
import { tarCat, tempStore } from '../image-build/helpers.js';

const test = suite('build --format');
const store = tempStore('imgeval-format-');
const scratch = mkdtempSync(join(tmpdir(), 'imgeval-format-fx-'));
const example = join(ROOT, 'examples', 'busybox.img');

async function build(format: string, link: string): Promise<string> {
  const io = memoryIO();
  const rc = await main(['build', example, '--store', store.root, '--format', format, '-o', join(scratch, link)], io);
  assert.is(rc, 0, io.stderr);
  return realpathSync(join(scratch, link));
}
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test.after(() => {
  store.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

test('oci-dir: validated by oci-image-tool, ref.name = the tag, same config bytes as the docker-archive', async () => {
  if (!needTool('OCI checks', 'oci-image-tool', 'skopeo')) return;
  const docker = await build('docker-archive', 'docker');
  const dir = await build('oci-dir', 'oci');
  assert.ok(statSync(dir).isDirectory());
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.is(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'latest');
  const v = spawnSync('oci-image-tool', ['validate', '--type', 'image', '--ref', 'name=latest', dir], { encoding: 'utf8' });
  assert.is(v.status, 0, `${v.stdout}${v.stderr}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const dm = JSON.parse(tarCat(docker, 'manifest.json').toString())[0];
  const dockerConfig = tarCat(docker, dm.Config);
  assert.is(manifest.config.digest, sha(dockerConfig), 'image ID kept');
  // and through skopeo's conversion back to a docker-archive
  const back = join(scratch, 'back.tar');
  execFileSync('skopeo', ['copy', '-q', `oci:${dir}:latest`, `docker-archive:${back}:busybox-hello:latest`]);
  const out = execFileSync('skopeo', ['inspect', '--raw', '--config', `docker-archive:${back}`]);
  assert.is(sha(out), sha(dockerConfig));
});

test('oci-archive: a tar of a valid layout; push of an OCI layout keeps its manifest digest', async () => {
  if (!needTool('OCI checks', 'oci-image-tool', 'skopeo', 'docker-registry')) return;
  const tar = await build('oci-archive', 'ocitar');
  const names = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n');
  assert.ok(names.includes('index.json') && names.includes('oci-layout'), names.join(' '));
  const insp = execFileSync('skopeo', ['inspect', `oci-archive:${tar}:latest`], { encoding: 'utf8' });
  assert.ok(JSON.parse(insp).Layers.length >= 1);
  const dir = realpathSync(join(scratch, 'oci'));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const reg = await startRegistry();
  try {
    for (const src of [dir, tar]) {
      const io = memoryIO();
      const rc = await main(['push', src, `docker://${reg.host}/demo/oci:latest`, '--tls-verify=false', '-q'], io);
      assert.is(rc, 0, io.stderr);
      assert.is(io.stdout.trim(), index.manifests[0].digest);
    }
  } finally {
    await reg.stop();
  }
});

test.run();
