// Every examples/*.img builds (with `-I imglib=examples/lib`, as the examples say), and every
// image it yields is held against ../shared/oracles/image-check (loaded by podman under its
// `name:tag`, converted to OCI, validated, unpacked, and its command run where it has one);
// the Nix-database example is also held against nix-db-check on its unpacked root filesystem.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, needTool } from './helpers/tools.js';
import { buildImg, imageCheck, nixDbCheck, streamToFile, tempStore, type Built } from './image-build/helpers.js';

const EXAMPLES = join(ROOT, 'examples');
const searchPath = [{ prefix: 'imglib', path: join(EXAMPLES, 'lib') }];

/** What to run in each example image (by file and attribute); absent: just load and unpack. */
const COMMANDS: Record<string, string[]> = {
  'busybox.img': ['/bin/sh', '-c', 'echo $(cat /etc/greeting)'],
  'layered-on-layered.img:base': ['/bin/sh', '-c', 'echo base ok'],
  'layered-on-layered.img:app': ['/bin/greet'],
  'nix-db.img': ['/bin/read-data'],
  'streamed.img': ['/bin/sh', '-c', 'stat -c %u /home/alice'],
};
const EXPECT: Record<string, string> = {
  'busybox.img': 'hello from busybox',
  'layered-on-layered.img:app': 'hello from a store path',
  'nix-db.img': 'some data',
  'streamed.img': '1000',
};

const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.img')).sort();
const store = tempStore('imgeval-examples-');

test('there are examples', () => {
  assert.ok(files.length >= 5, `examples: ${files.join(', ')}`);
});

for (const f of files) {
  test(`examples/${f} builds, and its images pass image-check`, async () => {
    const built = await buildImg(store.root, { file: join(EXAMPLES, f), searchPath });
    assert.ok(built.size > 0, 'no derivation');
    if (!needTool('image-check', 'skopeo', 'podman', 'umoci', 'oci-image-tool')) return;
    for (const [attr, b] of built) {
      const key = attr ? `${f}:${attr}` : f;
      const archive = await archiveOf(b);
      const r = imageCheck(archive, `${b.imageName}:${b.imageTag}`, COMMANDS[key] ?? []);
      assert.ok(r.ok, `${key}: ${r.output}`);
      if (EXPECT[key]) assert.ok(r.output.includes(EXPECT[key]!), `${key}: expected '${EXPECT[key]}' in: ${r.output}`);
      if (f === 'nix-db.img' && needTool('nix-db-check', 'nix-store', 'sqlite3', 'jq')) {
        const rootfs = mkdtempSync(join(tmpdir(), 'imgeval-ex-rootfs-'));
        try {
          unpackLayers(archive, rootfs);
          const n = nixDbCheck(rootfs);
          assert.ok(n.ok, n.output);
        } finally {
          rmSync(rootfs, { recursive: true, force: true });
        }
      }
    }
  });
}

/** The archive file of an image (a streamed image's script is run into a file first). */
async function archiveOf(b: Built): Promise<string> {
  if (!b.conf || b.outPath.endsWith('.tar') || b.outPath.includes('.tar.')) return b.physical;
  const file = join(mkdtempSync(join(tmpdir(), 'imgeval-ex-stream-')), 'image.tar');
  await streamToFile(store.root, b.conf, file);
  return file;
}

/** Extracts every layer of a docker-archive, in manifest order, into `dir` (no whiteouts in these). */
export function unpackLayers(archive: string, dir: string): void {
  const work = mkdtempSync(join(tmpdir(), 'imgeval-unpack-'));
  try {
    const x = spawnSync('tar', ['-xf', archive, '-C', work]);
    assert.is(x.status, 0, String(x.stderr));
    const manifest = JSON.parse(spawnSync('cat', [join(work, 'manifest.json')], { encoding: 'utf8' }).stdout) as { Layers: string[] }[];
    for (const l of manifest[0]!.Layers) {
      const r = spawnSync('tar', ['-xf', join(work, l), '-C', dir]);
      assert.is(r.status, 0, String(r.stderr));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test.after(() => store.cleanup());
test.run();
