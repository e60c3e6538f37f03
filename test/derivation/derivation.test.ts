// Properties of the ATerm form and hashDerivationModulo that the goldens do not reach:
// round trips of arbitrary byte strings, parse errors, deep graphs, the memo.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  DrvHashes,
  computeDrvPath,
  computeOutputPaths,
  parseDerivation,
  showDerivationJson,
  unparseDerivation,
  type Derivation,
} from '../../src/derivation/derivation.js';
import { isImgError } from '../../src/base/error.js';

const test = suite('derivation/derivation');

const byteString = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1'));
const P = '/nix/store/00000000000000000000000000000000-';

test('unparse → parse → unparse is the identity for any byte strings in builder, args, env', () => {
  fc.assert(
    fc.property(byteString, fc.array(byteString, { maxLength: 5 }), fc.dictionary(byteString, byteString, { maxKeys: 6 }), (builder, args, env) => {
      const drv: Derivation = {
        name: 'x',
        outputs: new Map([['out', { path: `${P}x`, hashAlgo: '', hash: '' }]]),
        inputDrvs: new Map([[`${P}y.drv`, ['out', 'dev']]]),
        inputSrcs: [`${P}src`],
        platform: 'x86_64-linux',
        builder,
        args,
        env: new Map(Object.entries(env)),
      };
      const text = unparseDerivation(drv);
      const back = parseDerivation(text, 'x');
      assert.is(back.builder, builder);
      assert.equal(back.args, args);
      assert.equal(Object.fromEntries(back.env), Object.fromEntries(new Map(Object.entries(env))));
      assert.is(unparseDerivation(back), text);
    }),
    { numRuns: 300 },
  );
});

test('escapes exactly " \\ newline CR tab', () => {
  const drv: Derivation = {
    name: 'x',
    outputs: new Map([['out', { path: `${P}x`, hashAlgo: '', hash: '' }]]),
    inputDrvs: new Map(),
    inputSrcs: [],
    platform: 'p',
    builder: 'a"b\\c\nd\re\tf\x01\x7f\xff',
    args: [],
    env: new Map(),
  };
  assert.ok(unparseDerivation(drv).includes('"a\\"b\\\\c\\nd\\re\\tf\x01\x7f\xff"'));
});

test('parse errors are ImgErrors naming the derivation', () => {
  for (const bad of ['', 'Derive(', 'Derive([("out","/nix/store/00000000000000000000000000000000-x","","")],[],[],"p","b",[],[])x', 'Derive([],[],["relative"],"p","b",[],[])']) {
    try {
      parseDerivation(bad, 'x');
      assert.unreachable(`parsed: ${bad}`);
    } catch (e) {
      assert.ok(isImgError(e), String(e));
    }
  }
});

const chainHashes = new DrvHashes(() => {
  throw new Error('all inputs are memoised');
});

test('a 3000-deep chain hashes without overflowing the stack, each drv read once', () => {
  const drvs = new Map<string, Derivation>();
  let prev: string | undefined;
  for (let i = 0; i < 3000; i++) {
    const drv: Derivation = {
      name: `s${i}`,
      outputs: new Map([['out', { path: '', hashAlgo: '', hash: '' }]]),
      inputDrvs: prev ? new Map([[prev, ['out']]]) : new Map(),
      inputSrcs: [],
      platform: 'p',
      builder: '/b',
      args: [],
      env: new Map([['out', '']]),
    };
    // Built as the evaluator does: each new drv's modulo hash is put in the memo with set().
    const outs = computeOutputPaths(drv, chainHashes);
    drv.outputs.set('out', { path: outs.get('out')!, hashAlgo: '', hash: '' });
    drv.env.set('out', outs.get('out')!);
    const { drvPath } = computeDrvPath(drv);
    drvs.set(drvPath, drv);
    chainHashes.set(drvPath, chainHashes.of(drv, false));
    prev = drvPath;
  }
  // A fresh memo has to walk the whole chain through readDerivation.
  let reads = 0;
  const fresh = new DrvHashes((p) => {
    reads++;
    return drvs.get(p)!;
  });
  const h = fresh.get(prev!);
  const again = chainHashes.get(prev!);
  assert.equal(h, again);
  assert.is(reads, 3000);
  fresh.get(prev!);
  assert.is(reads, 3000);
});
test('showDerivationJson: empty lists and objects print as [] and {}', () => {
  const drv: Derivation = {
    name: 'x',
    outputs: new Map([['out', { path: `${P}x`, hashAlgo: '', hash: '' }]]),
    inputDrvs: new Map(),
    inputSrcs: [],
    platform: 'p',
    builder: 'b',
    args: [],
    env: new Map([['k', 'v\x01']]),
  };
  const s = showDerivationJson([{ drvPath: `${P}x.drv`, drv }]);
  assert.ok(s.includes('"inputSrcs": [],\n'));
  assert.ok(s.includes('"inputDrvs": {},\n'));
  assert.ok(s.includes('"k": "v\\u0001"'));
});

test.run();
