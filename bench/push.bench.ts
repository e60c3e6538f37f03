// Push speed and the bytes a re-push costs: a synthetic image (6 × 16 MiB incompressible layers
// + one 4 KiB layer, written by imgeval's own tar and docker-archive writers) is pushed with
// `imgeval push` to a fresh repository, then the same image with only the small layer changed;
// the same two pushes with `skopeo copy docker-archive:… docker://…` (the reference tool, which
// gzips layers) to another repository of the same loopback docker-registry, in the same run.
// Prints seconds and bytes uploaded (imgeval: request body bytes it sent; skopeo: growth of the
// registry's blob storage) and the ratios.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeImageConfig } from '../src/image/config.js';
import { writeDockerArchive } from '../src/image/docker-archive.js';
import { writeTarFile, ROOT_OWNER, type Layer } from '../src/image/layer.js';
import { dockerArchiveSource } from '../src/image/registry/push-source.js';
import { pushImage } from '../src/image/registry/push.js';
import { parseReference } from '../src/image/registry/reference.js';
import { startRegistry } from '../test/helpers/registry.js';

if (spawnSync('sh', ['-c', 'command -v docker-registry && command -v skopeo'], { stdio: 'ignore' }).status !== 0) {
  console.log('push bench needs docker-registry and skopeo (Debian packages); skipped');
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'imgeval-push-bench-'));
const MiB = 1 << 20;

/** Deterministic incompressible bytes (xorshift32). */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

async function layer(name: string, data: Buffer, i: number): Promise<Layer> {
  return writeTarFile(
    [
      { type: 'directory', name: 'data/', mode: 0o755, mtime: 1, owner: ROOT_OWNER },
      { type: 'file', name: `data/${name}`, mode: 0o644, mtime: 1, owner: ROOT_OWNER, size: data.length, source: { data } },
    ],
    join(work, `layer-${i}-${name}.tar`),
  );
}

async function archive(version: string): Promise<string> {
  const layers: Layer[] = [];
  for (let i = 0; i < 6; i++) layers.push(await layer(`big-${i}`, noise(16 * MiB, i + 1), i));
  layers.push(await layer('version', Buffer.concat([Buffer.from(`version ${version}\n`), noise(4096, 99)]), 100 + Number(version)));
  const config = makeImageConfig({
    architecture: 'amd64', os: 'linux', created: '1970-01-01T00:00:01Z', config: { Cmd: ['/data/version'] },
    diffIDs: layers.map((l) => l.diffID),
  });
  const out = join(work, `image-${version}.tar`);
  await writeDockerArchive(out, [{ config, layers, repoTags: [`bench/push:${version}`] }], { layout: 'streamLayeredImage', mtime: 1 });
  return out;
}

function duBytes(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) n += statSync(p).size;
    }
  };
  try {
    walk(dir);
  } catch {
    // not created yet
  }
  return n;
}

const reg = await startRegistry();
try {
  const v1 = await archive('1');
  const v2 = await archive('2');
  const total = statSync(v1).size;
  const blobs = join(reg.dir, 'data');
  const rows: { what: string; seconds: number; bytes: number; blobs: string }[] = [];

  for (const [ver, file] of [['1', v1], ['2', v2]] as const) {
    const img = await dockerArchiveSource(file);
    const t0 = performance.now();
    const r = await pushImage(img, parseReference(`${reg.host}/imgeval/bench:v${ver}`), { tlsVerify: false });
    rows.push({ what: `imgeval push ${ver === '1' ? 'full' : 'one layer changed'}`, seconds: (performance.now() - t0) / 1000, bytes: r.bytesSent, blobs: `${r.uploaded.length} up, ${r.skipped.length} skipped` });
  }
  for (const [ver, file] of [['1', v1], ['2', v2]] as const) {
    const before = duBytes(blobs);
    const t0 = performance.now();
    execFileSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${file}`, `docker://${reg.host}/skopeo/bench:v${ver}`], { env: { ...process.env, TMPDIR: work } });
    rows.push({ what: `skopeo copy ${ver === '1' ? 'full' : 'one layer changed'}`, seconds: (performance.now() - t0) / 1000, bytes: duBytes(blobs) - before, blobs: '(registry storage growth)' });
  }
  console.log(`image: 7 layers, archive ${(total / MiB).toFixed(1)} MiB; the changed layer is ${(4096 + 10) / 1024 | 0} KiB`);
  for (const r of rows) console.log(`${r.what.padEnd(32)} ${r.seconds.toFixed(2).padStart(7)} s  ${String(r.bytes).padStart(10)} bytes (${(r.bytes / MiB).toFixed(2)} MiB)  ${r.blobs}`);
  const [fullI, oneI, fullS, oneS] = rows as [typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0]];
  console.log(`imgeval: one-layer push sends ${(oneI.bytes / fullI.bytes * 100).toFixed(3)} % of the bytes and takes ${(oneI.seconds / fullI.seconds * 100).toFixed(1)} % of the time of a full push`);
  console.log(`ratio imgeval/skopeo: full push time ${(fullI.seconds / fullS.seconds).toFixed(2)}, one-layer push time ${(oneI.seconds / oneS.seconds).toFixed(2)}`);
} finally {
  await reg.stop();
  rmSync(work, { recursive: true, force: true });
}
