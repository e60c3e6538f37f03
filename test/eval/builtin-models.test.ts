// The built-ins whose fast algorithms differ from Nix 2.8's loops, held against direct models of
// those loops on random inputs (fast-check): replaceStrings (Nix tries the patterns in order at
// each byte; ours jumps between indexOf hits), listToAttrs (first occurrence wins; ours sorts
// indices once), sort (std::stable_sort, which ours replays step by step: comparators that are
// not strict weak orders are in test/lang/eval-ok/sort-comparator-order) and fromJSON objects (the last duplicate key wins). Nix's own answers on chosen cases
// are in test/lang/eval-ok/builtins-fast-paths.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ALL_BUILTINS } from '../../src/eval/index.js';
import { Attrs, PrimOp, Shape, force, type BuiltinDef, type Lazy, type Value } from '../../src/eval/value.js';

const test = suite('eval/builtin-models');

function builtin(name: string): BuiltinDef {
  const d = ALL_BUILTINS.find((b) => b.name === name);
  if (d === undefined) throw new Error(`no builtin ${name}`);
  return d;
}
const call = (name: string, a: Lazy, b: Lazy = null, c: Lazy = null): Value => builtin(name).impl(null, undefined, a, b, c);

/** Nix 2.8's prim_replaceStrings loop. */
function replaceModel(from: string[], to: string[], s: string): string {
  let res = '';
  for (let p = 0; p <= s.length; ) {
    let found = false;
    for (let i = 0; i < from.length; i++) {
      if (s.startsWith(from[i]!, p)) {
        found = true;
        res += to[i];
        if (from[i]!.length === 0) {
          if (p < s.length) res += s[p];
          p++;
        } else p += from[i]!.length;
        break;
      }
    }
    if (!found) {
      if (p < s.length) res += s[p];
      p++;
    }
  }
  return res;
}

const small = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 3 });

test('replaceStrings = Nix loop', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(small, small), { maxLength: 4 }), fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 14 }), (pairs, s) => {
      const from = pairs.map((p) => p[0]);
      const to = pairs.map((p) => p[1].toUpperCase());
      assert.is(call('replaceStrings', from, to, s), replaceModel(from, to, s));
    }),
    { numRuns: 3000 },
  );
});

const nameValue = new Shape(['name', 'value']);

test('listToAttrs = first occurrence wins, names sorted', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(small, fc.integer()), { maxLength: 40 }), (pairs) => {
      const list = pairs.map(([n, v]) => new Attrs(nameValue, [n, v]));
      const got = call('listToAttrs', list) as Attrs;
      const m = new Map<string, number>();
      for (const [n, v] of pairs) if (!m.has(n)) m.set(n, v);
      const names = [...m.keys()].sort();
      assert.equal(got.names(), names);
      assert.equal(got.vals, names.map((n) => m.get(n)));
    }),
    { numRuns: 1000 },
  );
});

test('sort with a comparator = stable sort', () => {
  const shape = new Shape(['i', 'k']);
  const byKey = new PrimOp({ name: 'byKey', arity: 2, doc: '', impl: (_st, _span, a, b) => ((force(a) as Attrs).vals[1] as number) < ((force(b) as Attrs).vals[1] as number) }, null);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), fc.boolean(), (keys, presorted) => {
      if (presorted) keys.sort((x, y) => x - y);
      const list = keys.map((k, i) => new Attrs(shape, [i, k]));
      const got = (call('sort', byKey, list) as Attrs[]).map((r) => r.vals[0]);
      const exp = list.slice().sort((x, y) => (x.vals[1] as number) - (y.vals[1] as number)).map((r) => r.vals[0]);
      assert.equal(got, exp);
    }),
    { numRuns: 1000 },
  );
});

test('fromJSON objects = last duplicate wins, names sorted', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(small, fc.integer()), { maxLength: 12 }), (pairs) => {
      const text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`;
      const got = call('fromJSON', text) as Attrs;
      const m = new Map<string, number>();
      for (const [k, v] of pairs) m.set(k, v);
      const names = [...m.keys()].sort();
      assert.equal(got.names(), names);
      assert.equal(got.vals, names.map((n) => m.get(n)));
    }),
    { numRuns: 1000 },
  );
});

test.run();
