// image/layering: pure functions that split a store closure into image layers, over a reference
// graph ({path, narSize, references}[]): the popularity contest (`referencesByPopularity`,
// dockertools.md §3.2), the classic split into at most `maxLayers` layers with the
// customisation layer last (§3.3), and the size-based auto-layer algorithm nixpkgs uses by
// default since 2025 (§3.4, auto-layer.py). Tie-breaking is fixed and documented at each step,
// so the result depends only on the graph. No IO.

import { ImgError } from '../base/error.js';

export interface GraphNode {
  readonly path: string;
  readonly narSize: number;
  /** May include the path itself (self-references are ignored). */
  readonly references: readonly string[];
}

/** `/nix/store/<hash>-name-1.0` → `name-1.0-/nix/store/<hash>` (closure-graph.py's package_name). */
export function packageNameKey(path: string): string {
  const parts = path.split('-');
  const first = parts.shift()!;
  parts.push(first);
  return parts.join('-');
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function lookupOf(graph: readonly GraphNode[]): Map<string, string[]> {
  const lookup = new Map<string, string[]>();
  for (const n of graph) lookup.set(n.path, []);
  for (const n of graph) {
    const refs = [...new Set(n.references)].filter((r) => r !== n.path);
    for (const r of refs) {
      if (!lookup.has(r)) throw new ImgError('E_IMAGE', `reference graph: '${n.path}' refers to '${r}', which is not in the graph`);
    }
    lookup.set(n.path, refs);
  }
  return lookup;
}

/**
 * Popularity scores (§3.2): the DAG is unfolded into a tree below a virtual root whose children
 * are the roots (paths nobody refers to); pop(node) = Σ over children c of ({c: 1} ⊕ {d: pop_c(d) + 1
 * for d in pop(c)}), memoised per path. E.g. A→B, A→G, B→C, B→E, C→D, C→E, D→F, E→F gives
 * A 1, B 2, C 3, D 4, E 5, F 9, G 2.
 */
export function popularity(graph: readonly GraphNode[]): Map<string, number> {
  const lookup = lookupOf(graph);
  const referenced = new Set<string>();
  for (const refs of lookup.values()) for (const r of refs) referenced.add(r);
  const roots = [...lookup.keys()].filter((p) => !referenced.has(p)).sort(cmp);
  const memo = new Map<string, Map<string, number>>();
  const onStack = new Set<string>();
  const pop = (p: string): Map<string, number> => {
    const m = memo.get(p);
    if (m) return m;
    if (onStack.has(p)) throw new ImgError('E_IMAGE', `reference graph has a cycle through '${p}'`);
    onStack.add(p);
    const out = new Map<string, number>();
    for (const c of lookup.get(p)!) {
      out.set(c, (out.get(c) ?? 0) + 1);
      for (const [d, n] of pop(c)) out.set(d, (out.get(d) ?? 0) + n + 1);
    }
    onStack.delete(p);
    memo.set(p, out);
    return out;
  };
  const total = new Map<string, number>();
  for (const r of roots) {
    total.set(r, (total.get(r) ?? 0) + 1);
    for (const [d, n] of pop(r)) total.set(d, (total.get(d) ?? 0) + n + 1);
  }
  return total;
}

/**
 * Paths ordered by popularity (most popular first); equal scores in ascending `packageNameKey`
 * order; paths not reached from any root (only possible with cycles) would follow — a cycle is
 * refused instead, since store closures have none.
 */
export function referencesByPopularity(graph: readonly GraphNode[]): string[] {
  const scores = popularity(graph);
  const paths = [...scores.keys()];
  const keys = new Map(paths.map((p) => [p, packageNameKey(p)]));
  paths.sort((a, b) => scores.get(b)! - scores.get(a)! || cmp(keys.get(a)!, keys.get(b)!));
  const seen = new Set(paths);
  const rest = graph.map((n) => n.path).filter((p) => !seen.has(p));
  rest.sort((a, b) => cmp(keys.get(a) ?? packageNameKey(a), keys.get(b) ?? packageNameKey(b)));
  return [...paths, ...rest];
}

/**
 * Layers still available for store paths: maxLayers − 1 (customisation layer) − base layers.
 * Errors as nixpkgs does when none is left.
 */
export function availableLayers(maxLayers: number, baseLayers = 0): number {
  if (!Number.isInteger(maxLayers) || maxLayers <= 1) throw new ImgError('E_IMAGE', `maxLayers must be an integer greater than 1, not ${maxLayers}`);
  const used = 1 + baseLayers;
  if (used >= maxLayers) {
    throw new ImgError(
      'E_IMAGE',
      `usedLayers ${used} layers to store 'fromImage' and 'extraCommands', but only maxLayers=${maxLayers} were allowed. At least 1 layer is required to store contents.`,
    );
  }
  return maxLayers - used;
}

/**
 * The classic split (§3.3): the `available − 1` first paths of `ordered` get a layer each, all
 * the rest share the last one; empty layers are dropped.
 */
export function splitIntoLayers(ordered: readonly string[], available: number): string[][] {
  if (!Number.isInteger(available) || available < 1) throw new ImgError('E_IMAGE', `at least one store layer is needed, not ${available}`);
  const out: string[][] = [];
  for (let i = 0; i < Math.min(available - 1, ordered.length); i++) out.push([ordered[i]!]);
  const rest = ordered.slice(available - 1);
  if (rest.length) out.push([...rest]);
  return out;
}

/** Popularity contest + classic split, leaving out `exclude` (e.g. the customisation layer). */
export function popularityLayers(graph: readonly GraphNode[], available: number, exclude: ReadonlySet<string> = new Set()): string[][] {
  return splitIntoLayers(
    referencesByPopularity(graph).filter((p) => !exclude.has(p)),
    available,
  );
}

/** auto-layer.py's path key: (name, hash) of `/nix/store/<hash>-<name>`. */
function autoKey(path: string): [string, string] {
  const i = path.indexOf('-');
  return i < 0 ? ['', path] : [path.slice(i + 1), path.slice(0, i)];
}
function cmpAutoKey(a: string, b: string): number {
  const [an, ah] = autoKey(a);
  const [bn, bh] = autoKey(b);
  return cmp(an, bn) || cmp(ah, bh);
}

/**
 * Size-based layering (§3.4, nixpkgs auto-layer.py). Each path is keyed by the set of "primary"
 * paths that pull it in; primaries are taken largest narSize first (ties: the graph sorted by path,
 * then stably by narSize, the last one first — what Python's sort + pop does on Nix's sorted
 * graph); a new primary P keys itself {P}; each dependency D of P loses the primaries that use P
 * and gains P unless it is still keyed by a primary that is itself a dependency of P. Stops
 * before the number of distinct keys would exceed `layerLimit`. Layers = groups of equal key,
 * ordered by ascending closure size (ties: by their first path); paths in a layer sorted by
 * (name, hash); `exclude` removed afterwards; empty layers dropped.
 */
export function autoLayers(graph: readonly GraphNode[], layerLimit: number, exclude: ReadonlySet<string> = new Set()): string[][] {
  if (!Number.isInteger(layerLimit) || layerLimit < 1) throw new ImgError('E_IMAGE', `layer limit must be at least 1, not ${layerLimit}`);
  const deps = new Map<string, string[]>();
  const users = new Map<string, string[]>();
  const size = new Map<string, number>();
  for (const n of graph) {
    deps.set(n.path, [...new Set(n.references)].filter((r) => r !== n.path));
    users.set(n.path, []);
    size.set(n.path, n.narSize);
  }
  for (const [p, refs] of deps) {
    for (const r of refs) {
      const us = users.get(r);
      if (!us) throw new ImgError('E_IMAGE', `reference graph: '${p}' refers to '${r}', which is not in the graph`);
      us.push(p);
    }
  }
  const reach = (start: string, edges: Map<string, string[]>): Set<string> => {
    const done = new Set<string>();
    const todo = [start];
    while (todo.length) {
      const x = todo.pop()!;
      if (done.has(x)) continue;
      done.add(x);
      for (const y of edges.get(x)!) todo.push(y);
    }
    done.delete(start);
    return done;
  };

  // keys as sorted arrays joined: a canonical string per set
  const keyOf = (s: ReadonlySet<string>) => [...s].sort(cmp).join('\n');
  // Each step changes the keys of the primary and its dependencies only: the distinct keys are
  // counted incrementally (a multiset of key strings), and a step over the limit is not applied.
  const split = new Map<string, Set<string>>([...deps.keys()].map((p) => [p, new Set<string>()]));
  const keyNow = new Map<string, string>([...split.keys()].map((p) => [p, '']));
  const uses = new Map<string, number>(split.size > 0 ? [['', split.size]] : []);
  const bySize = [...graph].sort((a, b) => cmp(a.path, b.path)).sort((a, b) => a.narSize - b.narSize);
  while (bySize.length) {
    const primary = bySize.pop()!.path;
    const changed = new Map<string, Set<string>>([[primary, new Set([primary])]]);
    const pDeps = reach(primary, deps);
    const pUsers = reach(primary, users);
    for (const d of pDeps) {
      let s = changed.get(d);
      if (s === undefined) changed.set(d, (s = new Set(split.get(d)!)));
      for (const x of pUsers) s.delete(x);
      let intersects = false;
      for (const x of s) if (pDeps.has(x)) intersects = true;
      if (!intersects) s.add(primary);
    }
    const trial = new Map<string, number>();
    const usesOf = (k: string) => trial.get(k) ?? uses.get(k) ?? 0;
    const newKeys = new Map<string, string>();
    for (const [p, s] of changed) {
      const k = keyOf(s);
      newKeys.set(p, k);
      trial.set(keyNow.get(p)!, usesOf(keyNow.get(p)!) - 1);
      trial.set(k, usesOf(k) + 1);
    }
    let distinct = uses.size;
    for (const [k, n] of trial) distinct += (n > 0 ? 1 : 0) - ((uses.get(k) ?? 0) > 0 ? 1 : 0);
    if (distinct > layerLimit) break;
    for (const [k, n] of trial) {
      if (n > 0) uses.set(k, n);
      else uses.delete(k);
    }
    for (const [p, s] of changed) {
      split.set(p, s);
      keyNow.set(p, newKeys.get(p)!);
    }
  }

  const groups = new Map<string, string[]>();
  for (const [p, s] of split) {
    const k = keyOf(s);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(p);
  }
  const layers = [...groups.values()].map((paths) => {
    paths.sort(cmpAutoKey);
    const closure = new Set<string>();
    for (const p of paths) {
      closure.add(p);
      for (const d of reach(p, deps)) closure.add(d);
    }
    let closureSize = 0;
    for (const p of closure) closureSize += size.get(p)!;
    return { paths, closureSize };
  });
  layers.sort((a, b) => a.closureSize - b.closureSize || cmpAutoKey(a.paths[0]!, b.paths[0]!));
  const total = layers.reduce((n, l) => n + l.paths.reduce((m, p) => m + size.get(p)!, 0), 0);
  const want = graph.reduce((n, g) => n + g.narSize, 0);
  if (total !== want) throw new Error(`internal: auto-layer lost paths (${total} != ${want})`);
  return layers.map((l) => l.paths.filter((p) => !exclude.has(p))).filter((l) => l.length > 0);
}
