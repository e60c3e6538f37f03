// Determinism: the same expression built into two fresh stores (different store roots, source
// files with different mtimes) gives byte-identical archives, confs and layers; and a rebuild
// of every image derivation in check mode (`imgeval build --check`: build again, compare with
// what is registered) finds no difference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/tools.js';
import { buildImg, tempStore } from './helpers.js';

const searchPath = [{ prefix: 'imglib', path: join(ROOT, 'examples', 'lib') }];
const EXPR = (dir: string) => `let h = import <imglib/image-helpers.img>; files = ${dir}; in rec {
  layered = buildLayeredImage { name = "det-layered"; contents = [ h.busybox files ]; config.Cmd = [ "/bin/sh" ];
    fakeRootCommands = "mkdir -p home/u && chown 1000:1000 home/u"; };
  image = buildImage { name = "det-image"; fromImage = layered; copyToRoot = files; includeNixDB = true;
    extraCommands = "mkdir -p tmp && echo made > tmp/made"; compressor = "gz"; };
  zst = buildImage { name = "det-zst"; copyToRoot = h.busybox; compressor = "zstd"; };
  stream = streamLayeredImage { name = "det-stream"; contents = [ h.busybox ]; };
  exported = exportImage { fromImage = image; name = "det-export.tar"; };
  merged = mergeImages [ layered zst ];
}`;

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

test('two stores, different source mtimes: byte-identical outputs; check mode rebuilds identically', async () => {
  const runs: Map<string, string>[] = [];
  const cleanups: (() => void)[] = [];
  for (const mtime of [1000, 2_000_000_000]) {
    const s = tempStore('imgeval-det-');
    cleanups.push(s.cleanup);
    const src = mkdtempSync(join(tmpdir(), 'imgeval-det-src-'));
    cleanups.push(() => rmSync(src, { recursive: true, force: true }));
    cpSync(join(ROOT, 'test', 'image-build', 'fixtures', 'hello-dir'), join(src, 'files'), { recursive: true });
    utimesSync(join(src, 'files', 'hello.txt'), mtime, mtime);
    utimesSync(join(src, 'files'), mtime, mtime);
    const built = await buildImg(s.root, { expr: EXPR(join(src, 'files')), searchPath });
    const sums = new Map<string, string>();
    for (const [k, b] of built) {
      sums.set(k, `${b.outPath} ${sha(b.physical)}`);
      if (b.conf) sums.set(`${k}.conf`, sha(b.physical.replace(/[^/]+$/, b.conf.slice('/nix/store/'.length))));
    }
    runs.push(sums);
    if (runs.length === 1) {
      process.env.IMGEVAL_NO_LAYER_CACHE = '1';
      try {
        await buildImg(s.root, { expr: EXPR(join(src, 'files')), searchPath }, { check: true });
      } finally {
        delete process.env.IMGEVAL_NO_LAYER_CACHE;
      }
    }
  }
  try {
    assert.equal(runs[0], runs[1]);
    assert.is(runs[0]!.size, 8);
  } finally {
    for (const c of cleanups) c();
  }
});

test.run();
