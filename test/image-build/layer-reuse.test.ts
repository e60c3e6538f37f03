// Layer reuse between two versions of a layered image (what decides how much a registry push or
// a `docker load` has to move again): with the default layering ("auto", size-based) and each
// `contents` path in a store layer of its own, a new version of the application changes only
// the application's layer and the customisation layer; every other layer keeps its diffID.
// Also checks that a rebuild re-hashes only the changed layer (the others come from the
// layer-digest cache: the conf build logs how many).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/tools.js';
import { buildImg, tempStore } from './helpers.js';

const searchPath = [{ prefix: 'imglib', path: join(ROOT, 'examples', 'lib') }];
const image = (version: string, layering: string) => `let
  h = import <imglib/image-helpers.img>;
  lib1 = runCommand "lib1" { } "mkdir -p $out/lib && head -c 300000 /dev/zero > $out/lib/big && echo ${'$'}{h.busybox} > $out/lib/ref";
  lib2 = runCommand "lib2" { } "mkdir -p $out/lib && head -c 200000 /dev/zero | tr '\\\\0' a > $out/lib/big2 && echo \${lib1} > $out/lib/ref";
  app = h.script "app" "# version ${version}\\necho \${lib2} \${lib1}";
in streamLayeredImage { name = "reuse-${layering}"; tag = "1"; contents = [ app h.busybox ]; layering = "${layering}"; }`;

interface Conf { storeLayers: { paths: string[]; diffID: string }[]; customisationLayer: { diffID: string } }

test('a new application version re-ships only its own layer (auto and popularity)', async () => {
  const s = tempStore('imgeval-reuse-');
  try {
    for (const layering of ['auto', 'popularity']) {
      const confs: Conf[] = [];
      for (const v of ['1.0', '1.1']) {
        const b = (await buildImg(s.root, { expr: image(v, layering), searchPath })).get('')!;
        confs.push(JSON.parse(readFileSync(join(s.root, 'nix', 'store', b.conf!.slice('/nix/store/'.length)), 'latin1')));
      }
      const [a, b] = confs as [Conf, Conf];
      const old = new Set(a.storeLayers.map((l) => l.diffID));
      const changed = b.storeLayers.filter((l) => !old.has(l.diffID));
      assert.is(changed.length, 1, `${layering}: ${JSON.stringify(changed.map((l) => l.paths))}`);
      assert.is(changed[0]!.paths.length, 1);
      assert.match(changed[0]!.paths[0]!, /-app$/);
      assert.is(b.storeLayers.length, a.storeLayers.length);
      assert.ok(b.storeLayers.some((l) => l.paths.length === 1 && /-busybox$/.test(l.paths[0]!)), 'busybox has a layer of its own');
    }
    // the rebuild's conf took the unchanged layers' digests from the cache
    const logs = readdirSync(join(s.root, 'nix', 'var', 'log', 'imgeval', 'drvs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('-conf.json.drv'))
      .map((f) => readFileSync(join(s.root, 'nix', 'var', 'log', 'imgeval', 'drvs', f), 'utf8'));
    assert.ok(logs.some((l) => /digests from the cache/.test(l) && !/; 0 digests from the cache/.test(l)), logs.join('\n'));
  } finally {
    s.cleanup();
  }
});

test.run();
