#!/usr/bin/env -S node --stack-size=6000
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
// --stack-size=6000 (KB, V8's default is ~984): six times the JS stack on the main thread, still
// well inside the 8 MiB OS stack of `ulimit -s 8192` (beyond that V8 would segfault instead of
// throwing RangeError). Deep but ordinary evaluations (the 2000-package fixpoint of bench 07)
// then finish on the main thread instead of overflowing and being re-run in the big-stack
// worker (07: CPU 3.8 s -> 2.1 s). Run as `node bin/imgeval.js` the default stack applies.
import { main } from '../dist/cli/main.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
