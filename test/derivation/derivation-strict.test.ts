// derivationStrict's validation errors against the messages real Nix 2.8 printed for the
// test/derivation/cases/fail-*.nix goldens. Each input below is what the evaluator would pass
// for that case (the attributes of `mk` in cases/data/lib.nix, coerced to strings); messages that
// quote a store path also pin the hash computation.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { derivationStrict, type DerivationStrictInput } from '../../src/derivation/derivation-strict.js';
import { DrvHashes, parseDerivationFile } from '../../src/derivation/derivation.js';
import { toFilePath } from '../../src/derivation/store-path.js';
import { isImgError } from '../../src/base/error.js';
import { GOLDEN } from './gen-goldens.js';

const test = suite('derivation/derivation-strict');

const SRI = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';
const HEX = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';

/** The input for `mk attrs` (cases/data/lib.nix) without structured attrs. */
function mk(attrs: Record<string, string>, outputs?: string[]): DerivationStrictInput {
  const all: Record<string, string> = { system: 'x86_64-linux', builder: '/bin/sh', ...attrs };
  if (outputs) all['outputs'] = outputs.join(' ');
  return {
    name: all['name']!,
    env: new Map(Object.entries(all)),
    args: ['-c', 'echo > $out'],
    builder: all['builder'],
    system: all['system'],
    outputs,
    outputHash: all['outputHash'],
    outputHashAlgo: all['outputHashAlgo'],
    outputHashMode: all['outputHashMode'],
    context: [],
  };
}

const long = (n: number) => 'n'.repeat(n);

const inputs: Record<string, DerivationStrictInput> = {
  'fail-name-drv': mk({ name: 'x.drv' }),
  'fail-fod-multi-output': mk({ name: 'x', outputHash: SRI }, ['out', 'dev']),
  'fail-fod-not-out': mk({ name: 'x', outputHash: SRI }, ['bin']),
  'fail-hash-wrong-length': mk({ name: 'x', outputHashAlgo: 'sha256', outputHash: 'abc' }),
  'fail-hash-mode': mk({ name: 'x', outputHashMode: 'text', outputHash: SRI }),
  'fail-mode-before-outputs': mk({ name: 'x', outputHashMode: 'text' }, ['drv']),
  'fail-dup-output': mk({ name: 'x' }, ['out', 'dev', 'out']),
  'fail-output-drv': mk({ name: 'x' }, ['out', 'drv']),
  'fail-empty-outputs': { ...mk({ name: 'x' }, []), args: [] },
  'fail-missing-builder': { name: 'x', env: new Map([['name', 'x'], ['system', 'x86_64-linux']]), args: [], system: 'x86_64-linux', context: [] },
  'fail-empty-builder': { name: 'x', env: new Map([['builder', ''], ['name', 'x'], ['system', 'x86_64-linux']]), args: [], builder: '', system: 'x86_64-linux', context: [] },
  'fail-missing-system': { name: 'x', env: new Map([['builder', '/bin/sh'], ['name', 'x']]), args: [], builder: '/bin/sh', context: [] },
  'fail-bad-name': mk({ name: 'has space' }),
  'fail-bad-output-name': {
    name: 'x',
    env: new Map([['__json', '{"builder":"/bin/sh","name":"x","outputs":["out","b@d"],"system":"x86_64-linux"}']]),
    args: ['-c', 'echo > $out'],
    builder: '/bin/sh',
    system: 'x86_64-linux',
    outputs: ['out', 'b@d'],
    context: [],
  },
  'fail-name-too-long-drv': mk({ name: long(208) }),
  'fail-hash-no-type': mk({ name: 'x', outputHashAlgo: 'foo', outputHash: HEX }),
  'fail-hash-type-mismatch': mk({ name: 'x', outputHashAlgo: 'sha1', outputHash: SRI }),
  'fail-empty-hash-no-type': mk({ name: 'x', outputHash: '' }),
  'fail-bad-base32': mk({ name: 'x', outputHashAlgo: 'sha256', outputHash: '00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4ae' }),
};

const noStore = {
  hashes: new DrvHashes(() => {
    throw new Error('no input derivations here');
  }),
  readDerivation: () => {
    throw new Error('no input derivations here');
  },
  queryReferences: () => [],
};

for (const [name, input] of Object.entries(inputs)) {
  test(`${name}: Nix's error message`, () => {
    const f = join(GOLDEN, name, 'error.txt');
    assert.ok(existsSync(f), `golden ${f} missing`);
    const want = readFileSync(f, 'utf8').trimEnd();
    try {
      derivationStrict(input, noStore);
    } catch (e) {
      if (!isImgError(e)) throw e;
      assert.is(e.message, want);
      return;
    }
    assert.unreachable(`${name} should fail with: ${want}`);
  });
}

test('fod-empty-hash: the warning Nix prints', () => {
  const dir = join(GOLDEN, 'fod-empty-hash');
  const [f] = readdirSync(join(dir, 'drvs'));
  const drv = parseDerivationFile(`/nix/store/${f}`, readFileSync(join(dir, 'drvs', f!)));
  const env = new Map(drv.env);
  env.delete('out');
  const r = derivationStrict(
    { name: drv.name, env, args: drv.args, builder: drv.builder, system: drv.platform, outputHash: '', outputHashAlgo: 'sha256', context: [] },
    noStore,
  );
  assert.is(r.drvPath, `/nix/store/${f}`);
  assert.equal(r.warnings.join('\n') + '\n', readFileSync(join(dir, 'warnings.txt'), 'utf8'));
});

test('deps-drvpath: a `=drvPath` context brings in the whole closure, as Nix did', () => {
  const dir = join(GOLDEN, 'deps-drvpath');
  const drvs = new Map(
    readdirSync(join(dir, 'drvs')).map((f) => [`/nix/store/${f}`, parseDerivationFile(`/nix/store/${f}`, readFileSync(join(dir, 'drvs', f)))]),
  );
  const info = JSON.parse(readFileSync(join(dir, 'paths.json'), 'utf8')) as Record<string, { references: string[] }>;
  const [cPath, c] = [...drvs].find(([p]) => p.endsWith('-c.drv'))!;
  const bPath = [...drvs.keys()].find((p) => p.endsWith('-b.drv'))!;
  const env = new Map(c.env);
  env.delete('out');
  const read = (p: string) => drvs.get(p)!;
  const r = derivationStrict(
    { name: 'c', env, args: c.args, builder: c.builder, system: c.platform, context: [`=${bPath}`] },
    { hashes: new DrvHashes(read), readDerivation: read, queryReferences: (q) => info[q]!.references },
  );
  assert.is(r.drvPath, cPath);
  assert.is(r.aterm, readFileSync(join(dir, 'drvs', cPath.slice('/nix/store/'.length)), 'latin1'));
});

test('toFilePath: references from the context, and the message for a derivation output', () => {
  const want = readFileSync(join(GOLDEN, 'fail-tofile-drv-ref/error.txt'), 'utf8').trimEnd();
  const drv = readdirSync(join(GOLDEN, 'args/drvs')).find((f) => f.endsWith('-dep.drv'))!;
  assert.throws(
    () => toFilePath('x', 'ref /nix/store/…', [`/nix/store/${drv}`.replace('.drv', '-src'), `!out!/nix/store/${drv}`]),
    (e: Error) => e.message === want,
  );
  // tofile.nix: c = toFile "c" "${a} ${b} ${./data/hello.txt}"
  const info = JSON.parse(readFileSync(join(GOLDEN, 'tofile/paths.json'), 'utf8')) as Record<string, { references: string[] }>;
  const result = JSON.parse(readFileSync(join(GOLDEN, 'tofile/result.json'), 'utf8')) as Record<string, { string: string }>;
  const [a, b, c] = [result['a']!.string, result['b']!.string, result['c']!.string];
  const hello = info[c]!.references.find((r) => r.endsWith('-hello.txt'))!;
  const r = toFilePath('c', `${a} ${b} ${hello}`, [hello, b, a, a]);
  assert.is(r.path, c);
  assert.equal(r.references, info[c]!.references);
});

test.run();
