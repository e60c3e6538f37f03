// Holds the derivation layer against goldens written by the real Nix 2.8 (gen-goldens.ts): for
// every case, each `.drv` parses and re-serialises byte for byte, its drvPath, output paths
// (hashDerivationModulo) and `nix show-derivation` JSON are recomputed, derivationStrict rebuilds
// it from its inputs, and every other path of the closure (toFile text paths, source imports)
// is recomputed from its NAR, references and `ca`. Missing goldens are generated first.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DrvHashes,
  computeDrvPath,
  computeOutputPaths,
  derivationReferences,
  fixedOutput,
  fixedOutputPath,
  parseDerivationFile,
  showDerivationJson,
  unparseDerivation,
  type Derivation,
} from '../../src/derivation/derivation.js';
import { derivationStrict, type DerivationStrictInput } from '../../src/derivation/derivation-strict.js';
import { narHashOfFile, narOfFile, parseNar } from '../../src/derivation/nar.js';
import { hashPlaceholder, makeFixedOutputPath, makeSourcePath, makeTextPath, renderContentAddress, storePathName } from '../../src/derivation/store-path.js';
import { parseHash, sha256, toSRI, type HashAlgo } from '../../src/base/hash.js';
import { createHash } from 'node:crypto';
import { haveTool } from '../helpers/tools.js';
import { CASES, GOLDEN, ensureGoldens, listCases } from './gen-goldens.js';

const test = suite('derivation/goldens');

if (haveTool('nix-instantiate')) ensureGoldens();

const latin1 = (b: Buffer) => b.toString('latin1');

interface PathInfo {
  narHash: string;
  narSize: number;
  references: string[];
  ca: string | null;
}

/** Rebuilds derivationStrict's input from a finished derivation (env minus outputs, context). */
function strictInputOf(drv: Derivation): DerivationStrictInput {
  const env = new Map(drv.env);
  for (const o of drv.outputs.keys()) env.delete(o);
  const json = env.has('__json') ? (JSON.parse(Buffer.from(env.get('__json')!, 'latin1').toString('utf8')) as Record<string, unknown>) : undefined;
  const attr = (k: string): string | undefined => {
    if (json) return typeof json[k] === 'string' ? Buffer.from(json[k] as string, 'utf8').toString('latin1') : undefined;
    return env.get(k);
  };
  const outputs = json ? (json['outputs'] as string[] | undefined) : env.has('outputs') ? env.get('outputs')!.split(/[ \t\n\r]+/).filter(Boolean) : undefined;
  const context = [...drv.inputSrcs];
  for (const [p, outs] of drv.inputDrvs) for (const o of outs) context.push(`!${o}!${p}`);
  return {
    name: drv.name,
    env,
    args: drv.args,
    builder: attr('builder'),
    system: attr('system'),
    outputs,
    outputHash: attr('outputHash'),
    outputHashAlgo: attr('outputHashAlgo'),
    outputHashMode: attr('outputHashMode'),
    context,
  };
}

let drvCount = 0;
let pathCount = 0;

for (const name of listCases()) {
  const dir = join(GOLDEN, name);
  if (!existsSync(dir) || existsSync(join(dir, 'error.txt'))) continue;
  test(name, () => {
    const drvDir = join(dir, 'drvs');
    const texts = new Map<string, Buffer>();
    if (existsSync(drvDir)) for (const f of readdirSync(drvDir)) texts.set(`/nix/store/${f}`, readFileSync(join(drvDir, f)));
    const drvs = new Map<string, Derivation>();
    for (const [p, bytes] of texts) drvs.set(p, parseDerivationFile(p, bytes));
    const read = (p: string) => {
      const d = drvs.get(p);
      if (!d) throw new Error(`no golden for ${p}`);
      return d;
    };
    const info = existsSync(join(dir, 'paths.json')) ? (JSON.parse(readFileSync(join(dir, 'paths.json'), 'utf8')) as Record<string, PathInfo>) : {};

    for (const [p, drv] of drvs) {
      drvCount++;
      const text = latin1(texts.get(p)!);
      assert.is(unparseDerivation(drv), text, `${p}: parse → unparse`);
      assert.is(computeDrvPath(drv).drvPath, p, `${p}: drvPath`);
      const fixed = fixedOutput(drv);
      if (fixed) {
        assert.is(fixedOutputPath(fixed, drv.name), drv.outputs.get('out')!.path, `${p}: fixed output path`);
      } else {
        const blank: Derivation = { ...drv, outputs: new Map(), env: new Map(drv.env) };
        for (const o of drv.outputs.keys()) {
          blank.outputs.set(o, { path: '', hashAlgo: '', hash: '' });
          blank.env.set(o, '');
        }
        const got = computeOutputPaths(blank, new DrvHashes(read));
        for (const [o, out] of drv.outputs) assert.is(got.get(o), out.path, `${p}: output ${o}`);
      }
      // derivationStrict from the inputs gives the same derivation.
      const r = derivationStrict(strictInputOf(drv), {
        hashes: new DrvHashes(read),
        readDerivation: read,
        queryReferences: (q) => (q.endsWith('.drv') ? derivationReferences(read(q)) : info[q]!.references),
      });
      assert.is(r.drvPath, p, `${p}: derivationStrict drvPath`);
      assert.is(r.aterm, text, `${p}: derivationStrict ATerm`);
      // What the store registers for a .drv.
      const pi = info[p];
      if (pi) {
        const h = narHashOfFile(texts.get(p)!);
        assert.is(toSRI('sha256', h.narHash), pi.narHash);
        assert.is(h.narSize, pi.narSize);
        assert.equal(derivationReferences(drv), pi.references);
        assert.is(renderContentAddress({ method: 'text', hash: sha256(texts.get(p)!) }), pi.ca);
      }
    }

    // nix show-derivation -r of the top-level derivations
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as unknown;
    const tops = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') {
        for (const m of v.matchAll(/\/nix\/store\/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+\.drv/g)) tops.add(m[0]);
      } else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o['drvPath'] === 'string' && o['outputs'] && typeof o['outputs'] === 'object' && !('context' in o)) {
          const d = drvs.get(o['drvPath']);
          if (d) {
            const outs = Object.fromEntries([...d.outputs].map(([k, x]) => [k, x.path]));
            assert.equal(o['outputs'], outs, `outputs of ${o['drvPath']}`);
          }
        }
        Object.keys(o).forEach(walk);
        Object.values(o).forEach(walk);
      }
    };
    walk(result);
    if (existsSync(join(dir, 'show-derivation.json'))) {
      const closure = new Set<string>();
      const add = (p: string): void => {
        if (closure.has(p) || !drvs.has(p)) return;
        closure.add(p);
        for (const q of drvs.get(p)!.inputDrvs.keys()) add(q);
      };
      tops.forEach(add);
      const list = [...closure].sort().map((p) => ({ drvPath: p, drv: drvs.get(p)! }));
      assert.is(showDerivationJson(list), latin1(readFileSync(join(dir, 'show-derivation.json'))), 'nix show-derivation');
    }

    // toFile text paths and source imports, from their NARs
    const narDir = join(dir, 'nars');
    if (existsSync(narDir)) {
      for (const f of readdirSync(narDir)) {
        pathCount++;
        const p = `/nix/store/${f.slice(0, -4)}`;
        const nar = readFileSync(join(narDir, f));
        const pi = info[p]!;
        const h = sha256(nar);
        assert.is(toSRI('sha256', h), pi.narHash, `${p}: narHash`);
        const ca = pi.ca!;
        const fileContents = (): Buffer => {
          let contents = Buffer.alloc(0);
          parseNar(nar, {
            createDirectory() {
              throw new Error(`${p} should be a regular file`);
            },
            createRegularFile() {},
            contents(c) {
              contents = Buffer.concat([contents, c]);
            },
            createSymlink() {
              throw new Error(`${p} should be a regular file`);
            },
          });
          return contents;
        };
        if (ca.startsWith('text:')) {
          const contents = fileContents();
          assert.is(makeTextPath(storePathName(p), contents, pi.references), p, `${p}: text path`);
          assert.is(renderContentAddress({ method: 'text', hash: sha256(contents) }), ca);
        } else {
          const m = /^fixed:(r:)?(\w+):(.*)$/.exec(ca);
          assert.ok(m, `${p}: unexpected ca ${ca}`);
          const method = m![1] ? 'recursive' : 'flat';
          const algo = m![2] as HashAlgo;
          const want = createHash(algo).update(method === 'recursive' ? nar : fileContents()).digest();
          assert.equal(parseHash(m![3]!, algo).bytes, want, `${p}: ca hash`);
          assert.is(makeFixedOutputPath(method, algo, want, storePathName(p), pi.references), p, `${p}: fixed path`);
          assert.is(renderContentAddress({ method, algo, hash: want }), ca);
          if (method === 'recursive' && algo === 'sha256') assert.is(makeSourcePath(storePathName(p), h, pi.references), p);
        }
      }
    }
  });
}

test('placeholder: builtins.placeholder "out" as Nix printed it', () => {
  const r = JSON.parse(readFileSync(join(GOLDEN, 'placeholder/result.json'), 'utf8')) as { p: { string: string } };
  assert.is(hashPlaceholder('out'), r.p.string);
});

test('bad names of path imports and toFile: the message quotes the computed store path', () => {
  const hello = readFileSync(join(CASES, 'data/hello.txt'));
  const cases: [string, () => unknown][] = [
    ['fail-path-bad-name', () => makeSourcePath('a b', sha256(narOfFile(hello)))],
    ['fail-tofile-bad-name', () => makeTextPath('a/b', 'x')],
  ];
  for (const [name, f] of cases) {
    const want = readFileSync(join(GOLDEN, name, 'error.txt'), 'utf8').trimEnd();
    assert.throws(f, (e: Error) => e.message === want, name);
  }
});

test('counts', () => {
  assert.ok(drvCount >= 40, `only ${drvCount} golden derivations checked`);
  console.log(`\n  checked ${drvCount} golden .drv files and ${pathCount} text/source paths`);
});

test.run();
