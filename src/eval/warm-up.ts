// eval/warm-up: a small Nix expression evaluated once per process before any user code, so that
// V8's type feedback of the evaluator's closures is general from the start. Every closure the
// compiler makes from one function literal shares one feedback vector: in a small program a call
// site inside, say, the `if` closure sees one target and V8 inlines it, and an addition sees only
// small integers. When a deep recursion then reaches its base case, the first other target, a
// sum beyond 2^31 or a branch never taken deoptimizes the code, and every activation of it on the
// (100k-deep) stack is deoptimized as it returns: measured ~60-260k deoptimizations on bench 06.
// Here the usual shapes of recursion (counting down, walking nested sets, a hand-written foldr, a
// lazy list defined from itself), selections (cache misses, `or`, `?`), `//`, pattern lambdas
// and arithmetic beyond 2^31 each run 12 times, so the spine's call sites are megamorphic,
// arithmetic feedback covers heap numbers and base cases have feedback (06: CPU 1.40 -> 0.67 s).
// The price: small programs lose the inlining of the one target they use (01-fib 0.58 -> 0.72 s)
// and ~10 ms of start-up. Never does IO, never prints; the value is checked by a test.

import { SourceFile } from '../base/source.js';
import type { Value } from './value.js';

/** The warm-up program; its value is `WARM_UP_RESULT` (as nix-instantiate --eval computes it). */
export const WARM_UP_SOURCE = `
let
  big = 3000000000;
  id = x: x;
  add = x: y: x + y;
  pick = { x, y ? 2, ... }@args: if args ? z then x + y + args.z else x + y;
  rec1 = n: if n == 0 then 0 else 1 + rec1 (n - 1);
  walk = t: if t ? next then t.v + walk t.next else t.v;
  nest = d: if d == 0 then { v = big; } else { next = nest (d - 1); v = d; };
  fold = op: nul: list:
    let
      len = builtins.length list;
      go = i: if i == len then nul else op (builtins.elemAt list i) (go (i + 1));
    in
    go 0;
  chain = builtins.genList (i: if i == 0 then big else builtins.elemAt chain (i - 1) + 2) 3;
  step = i:
    let
      b = big + i * 7;
      set = { x = i; y = b; z = { w = b; }; };
      upd = set // { y = i - big; };
    in
    rec1 2 + walk (nest 2) + fold (x: acc: x + acc) b (builtins.genList id 3) + builtins.elemAt chain 2
      + set.z.w + (set.q or i) + (if set ? x then upd.y else 0) + pick { x = i; } + pick { x = b; z = i; }
      + add (b * 3 / 2) (-i) + (if i < b then 1 else 0) + builtins.foldl' add 0 (builtins.map id [ i b ])
      + add i b + add (i + 1) b + add b (i * 2) + (b - 1) + (b + 1) + (if b == 0 then 1 else 0) + (if b < 2 then 1 else 2) + (if i >= 1 then 1 else 0);
in
builtins.foldl' add 0 (builtins.genList step 12)
`;

/** What WARM_UP_SOURCE evaluates to (checked by test/eval/warm-up.test.ts). */
export const WARM_UP_RESULT = 414000005627;

let done = false;

/** What warmUp needs: evaluation of a source in the global scope. */
export interface WarmUpState {
  evalSource(file: SourceFile): Value;
}

/** Evaluates the warm-up program (an integer) once per process; later calls do nothing. */
export function warmUp(st: WarmUpState): Value | undefined {
  if (done) return undefined;
  done = true;
  return st.evalSource(new SourceFile('<imgeval warm-up>', WARM_UP_SOURCE, '/'));
}
