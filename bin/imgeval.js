#!/bin/sh
':' //; s=$(ulimit -s); ulimit -S -s 1048576 2>/dev/null && export IMGEVAL_OS_STACK="$s" && exec node --stack-size=262144 --max-semi-space-size=128 --min-semi-space-size=128 "$0" "$@"
':' //; k=6000; [ "$s" -lt 8000 ] 2>/dev/null && k=$((s - s / 4)); exec node --stack-size="$k" "$0" "$@"
// Entry point, a sh/JavaScript polyglot: sh runs the two lines above, JavaScript sees two string
// statements and comments. The evaluator recurses on the JS stack (a Nix call is a few JS
// frames), so node runs with a 256 MiB main-thread stack (--stack-size, KiB) inside a 1 GiB OS
// stack (the soft limit raised with `ulimit -S -s`, the hard limit left as it is; V8 must hit its own limit first, or it would segfault instead
// of throwing RangeError): 100k-deep recursions (bench 06, which needs ~96 MiB) evaluate on the
// main thread, a runaway one ends in a clean stack-overflow error in ~3 s (~5 s with 384 MiB:
// the stack fills with more levels and each scavenge scans it). The original limit is passed on in IMGEVAL_OS_STACK
// (builders get it back, as Nix restores its own). A big young generation: each scavenge scans
// the whole stack, so fewer scavenges matter when it is deep. If the limit cannot be raised,
// node gets 6000 KiB (inside the usual 8 MiB; 3/4 of a smaller limit) and `imgeval eval` re-runs
// an evaluation that overflows in a worker thread with a big stack. Run as `node bin/imgeval.js`,
// the defaults apply.
// CommonJS (bin/package.json), which starts faster than an ES module. dist/imgeval.cjs: the CLI
// bundled into one file, run through V8's code cache (made by `npm run build` / `prepare`).
const { main } = require('../dist/imgeval.cjs');
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
