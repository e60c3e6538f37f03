// The value model's contracts, tested directly: thunks are forced once and shared, a thunk
// being forced is a black hole (infinite recursion, with the code's span), a thunk whose
// forcing threw can be forced again; ints stay exact int64; attribute sets keep sorted shapes
// and `//` keeps the identity of an empty side.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ImgError } from '../../src/base/error.js';
import { SourceFile } from '../../src/base/source.js';
import { updateAttrs } from '../../src/eval/compile.js';
import { numAdd, numMul } from '../../src/eval/ops.js';
import { Attrs, Shape, Thunk, mkInt, type Code, type Value } from '../../src/eval/value.js';

test('a thunk is evaluated once and then holds its value', () => {
  let runs = 0;
  const t = new Thunk(() => ++runs, null);
  assert.is(t.forced, false);
  assert.is(t.force(), 1);
  assert.is(t.force(), 1);
  assert.is(runs, 1);
  assert.is(t.forced, true);
});

test('forcing a thunk from its own code is infinite recursion, reported at its span', () => {
  const file = new SourceFile('(test)', 'let x = x; in x', '/');
  let t: Thunk;
  const code = (() => t.force()) as Code;
  code.span = { file, start: 8, end: 9 };
  t = new Thunk(code, null);
  try {
    t.force();
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ImgError);
    assert.is((e as ImgError).code, 'E_INF_REC');
    assert.is((e as ImgError).message, 'infinite recursion encountered');
    assert.equal((e as ImgError).span, code.span);
  }
});

test('a thunk whose forcing threw can be forced again', () => {
  let fail = true;
  const t = new Thunk((): Value => {
    if (fail) throw new ImgError('E_THROW', 'not yet');
    return 'ok';
  }, null);
  assert.throws(() => t.force(), /not yet/);
  assert.is(t.forced, false);
  fail = false;
  assert.is(t.force(), 'ok');
});

test('ints are exact int64 and wrap as in Nix 2.8', () => {
  assert.is(numAdd(9007199254740991, 2, undefined), 9007199254740993n);
  assert.is(numAdd(9223372036854775807n, 1, undefined), -9223372036854775808n);
  assert.is(numMul(4611686018427387904n, 2, undefined), -9223372036854775808n);
  assert.is(mkInt(9007199254740993n - 2n), 9007199254740991); // back to a number when safe
});

test('attribute sets: sorted names, lookups, // keeps an empty side identical', () => {
  const a = Attrs.of([
    ['b', 1],
    ['a', 2],
  ]);
  assert.equal(a.names(), ['a', 'b']);
  assert.is(a.get('b'), 1);
  assert.is(a.get('c'), undefined);
  const empty = Attrs.of([]);
  assert.is(updateAttrs(a, empty), a);
  assert.is(updateAttrs(empty, a), a);
  const o = updateAttrs(a, Attrs.of([['a', 3]]));
  assert.is(o.shape, a.shape); // an override shares the shape
  assert.is(o.get('a'), 3);
  const g = updateAttrs(a, Attrs.of([['c', 4]]));
  assert.equal(g.names(), ['a', 'b', 'c']);
  const big = Attrs.of(Array.from({ length: 100 }, (_, i) => [`k${i}`, i] as [string, number]));
  for (let i = 0; i < 100; i++) assert.is(big.get(`k${i}`), i); // binary search, then an index
  assert.is(big.get('nope'), undefined);
});

test('// with a literal on the right: one result shape per pair of shapes, same values as a merge', () => {
  const file = new SourceFile('(test)', '', '/');
  // shapes as literals have them (sorted names with positions), each made once
  const shape = (names: string[]) => new Shape(names, names.map(() => ({ file, start: 0, end: 0 })));
  const bd = shape(['b', 'd']);
  const ade = shape(['a', 'd', 'e']);
  const d = shape(['d']);
  const r1 = updateAttrs(new Attrs(bd, [1, 2]), new Attrs(ade, [10, 11, 12]));
  const r2 = updateAttrs(new Attrs(bd, [3, 4]), new Attrs(ade, [20, 21, 22]));
  assert.is(r1.shape, r2.shape);
  assert.equal(r1.names(), ['a', 'b', 'd', 'e']);
  assert.equal(r1.vals, [10, 1, 11, 12]);
  assert.equal(r2.vals, [20, 3, 21, 22]);
  assert.is(r1.posOf('b'), bd.pos![0]);
  const o = updateAttrs(new Attrs(bd, [5, 6]), new Attrs(d, [7]));
  assert.is(o.shape, bd); // an override keeps the left shape
  assert.equal(o.vals, [5, 7]);
});

test.run();
