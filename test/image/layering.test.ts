// Layering: popularity contest, classic split and auto-layer on small hand-built graphs whose
// expected groupings are derived step by step below (following dockertools.md §3.2–3.4), plus
// fast-check properties: every path exactly once, at most the allowed layers, deterministic.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  autoLayers,
  availableLayers,
  packageNameKey,
  popularity,
  popularityLayers,
  referencesByPopularity,
  splitIntoLayers,
  type GraphNode,
} from '../../src/image/layering.js';
import { ImgError } from '../../src/base/error.js';

const test = suite('image/layering');
const P = (h: string, name: string) => `/nix/store/${h.padEnd(32, h[0])}-${name}`;
const node = (path: string, narSize: number, references: string[]): GraphNode => ({ path, narSize, references });

test('popularity: the reference worked example (A 1, B 2, C 3, D 4, E 5, F 9, G 2)', () => {
  const [A, B, C, D, E, F, G] = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((x) => P(x, x.toUpperCase()));
  const g = [
    node(A!, 1, [A!, B!, G!]), // self-reference ignored
    node(B!, 1, [C!, E!]),
    node(C!, 1, [D!, E!]),
    node(D!, 1, [F!]),
    node(E!, 1, [F!]),
    node(F!, 1, []),
    node(G!, 1, []),
  ];
  const s = popularity(g);
  assert.equal(Object.fromEntries([A, B, C, D, E, F, G].map((p) => [p!.slice(44), s.get(p!)])), { A: 1, B: 2, C: 3, D: 4, E: 5, F: 9, G: 2 });
  // descending score; B and G tie at 2: package keys "B-/nix/store/bbb…" < "G-/nix/store/ggg…"
  assert.equal(referencesByPopularity(g).map((p) => p.slice(44)), ['F', 'E', 'D', 'C', 'B', 'G', 'A']);
});

// Graph 2: app → libfoo, app → glibc, libfoo → glibc, tool → glibc (roots: app, tool).
//   pop(glibc) = {}; pop(libfoo) = {glibc: 1}; pop(app) = {libfoo: 1} ⊕ {glibc: 1+1} ⊕ {glibc: 1} = {libfoo 1, glibc 3}
//   pop(tool) = {glibc: 1}
//   virtual root: app 1, libfoo 1+1 = 2, glibc 3+1 = 4; tool 1, glibc 1+1 = 2 → app 1, libfoo 2, glibc 6, tool 1
//   order: glibc (6), libfoo (2), then app/tool tie at 1 → keys "app-1.0-/nix/store/ddd…" < "tool-3-/nix/store/aaa…"
//   (the key moves the hash to the end, so the hash does not decide: app's hash sorts after tool's)
const app = P('d', 'app-1.0');
const libfoo = P('b', 'libfoo-2');
const glibc = P('c', 'glibc-2.38');
const tool = P('a', 'tool-3');
const g2 = [node(app, 10, [libfoo, glibc]), node(libfoo, 20, [glibc]), node(glibc, 30, []), node(tool, 5, [glibc])];

test('popularity: derived order and the classic split at several budgets', () => {
  assert.equal(referencesByPopularity(g2), [glibc, libfoo, app, tool]);
  assert.equal(popularityLayers(g2, 10), [[glibc], [libfoo], [app], [tool]]);
  assert.equal(popularityLayers(g2, 3), [[glibc], [libfoo], [app, tool]]);
  assert.equal(popularityLayers(g2, 2), [[glibc], [libfoo, app, tool]]);
  assert.equal(popularityLayers(g2, 1), [[glibc, libfoo, app, tool]]);
  assert.equal(popularityLayers(g2, 3, new Set([libfoo])), [[glibc], [app], [tool]]);
  assert.equal(splitIntoLayers([], 5), []);
});

test('popularity: equal names are ordered by hash (the key ends with the store path)', () => {
  const x1 = P('z', 'same-1');
  const x2 = P('a', 'same-1');
  assert.equal(packageNameKey(x1), `same-1-/nix/store/${'z'.repeat(32)}`);
  assert.equal(referencesByPopularity([node(x1, 1, []), node(x2, 1, [])]), [x2, x1]);
});

test('availableLayers: budget and the nixpkgs errors', () => {
  assert.is(availableLayers(100), 99);
  assert.is(availableLayers(4, 2), 1);
  assert.throws(() => availableLayers(1), (e: unknown) => e instanceof ImgError && /greater than 1/.test(e.message));
  assert.throws(() => availableLayers(3, 2), (e: unknown) => e instanceof ImgError && /At least 1 layer is required/.test(e.message));
});

// Graph 3 (auto-layer): app(1) → big, med; big(100) → lib; med(50) → lib, util; lib(10); util(5).
//   primaries by size: big, med, lib, util, app.
//   after big:  big{big} lib{big} (lib has no key ∩ deps(big), gains big); app, med, util {} → 2 keys
//   after med:  med{med}; lib: {big} − users(med)={app} = {big}, {big} ∩ deps(med)={lib,util} = ∅ → {big,med};
//               util {} → {med} → keys {}, {big}, {med}, {big,med} = 4
//   after lib:  lib{lib} → keys {} (app), {big}, {med} (med, util), {lib} = 4
//   after util: util{util} → 5 keys;   after app: app{app}; its deps all keep their own key (∩ deps(app) ≠ ∅) → 5
//   layers ordered by closure size: util 5, lib 10, med 65, big 110, app 166.
const big = P('q', 'big-1');
const med = P('r', 'med-1');
const lib = P('s', 'lib-1');
const util = P('t', 'util-1');
const app3 = P('u', 'app-1');
const g3 = [node(app3, 1, [big, med]), node(big, 100, [lib]), node(med, 50, [lib, util]), node(lib, 10, []), node(util, 5, [])];

test('auto-layer: derived splits at limits 5, 4, 3, 2 and 1', () => {
  assert.equal(autoLayers(g3, 5), [[util], [lib], [med], [big], [app3]]);
  // limit 4: the split after `lib` (4 keys): {lib}: lib (10), {med}: med, util (closure 65), {big}: big (110), {}: app (166)
  assert.equal(autoLayers(g3, 4), [[lib], [med, util], [big], [app3]]);
  // limit 3: `med` would make 4 keys → keep the split after `big`: {big}: big, lib (110); {}: app, med, util (166)
  assert.equal(autoLayers(g3, 3), [[big, lib], [app3, med, util]]);
  assert.equal(autoLayers(g3, 2), [[big, lib], [app3, med, util]]);
  // limit 1: even `big` makes 2 keys → everything in one layer, sorted by (name, hash)
  assert.equal(autoLayers(g3, 1), [[app3, big, lib, med, util]]);
  assert.equal(autoLayers(g3, 5, new Set([app3])), [[util], [lib], [med], [big]]);
});

// Random DAGs: node i refers only to nodes < i.
const dag = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.array(fc.nat(), { maxLength: 4 }), fc.stringMatching(/^[a-z]{1,4}$/)), { minLength: 1, maxLength: 25 })
  .map((spec) =>
    spec.map(([size, refs, name], i) => {
      const path = `/nix/store/${String(i).padStart(32, '0')}-${name}`;
      return { i, path, size, refs: i === 0 ? [] : refs.map((r) => r % i) };
    }),
  )
  .map((ns) => ns.map((n) => node(n.path, n.size, n.refs.map((r) => ns[r]!.path))));

function shuffled<T>(xs: T[], seed: number): T[] {
  const a = [...xs];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

test('property: every path exactly once, at most the budget, independent of input order', () => {
  fc.assert(
    fc.property(dag, fc.integer({ min: 1, max: 30 }), fc.nat(), (g, budget, seed) => {
      const all = g.map((n) => n.path).sort();
      for (const layers of [popularityLayers(g, budget), autoLayers(g, budget)]) {
        const flat = layers.flat();
        assert.equal([...flat].sort(), all);
        assert.ok(layers.length <= budget);
        assert.ok(layers.every((l) => l.length > 0));
      }
      assert.equal(popularityLayers(shuffled(g, seed), budget), popularityLayers(g, budget));
      assert.equal(autoLayers(shuffled(g, seed), budget), autoLayers(g, budget));
    }),
    { numRuns: 150 },
  );
});

test.run();
