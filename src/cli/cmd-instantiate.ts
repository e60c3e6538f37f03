// cli/cmd-instantiate: `imgeval instantiate`, spelled like `nix-instantiate` without --eval:
// evaluates a file or expression, finds the derivations its value denotes (getDerivations),
// writes their `.drv` files (and the sources and toFile paths they need) into the store, and
// prints one drvPath per line (`<drv>!<output>` for an output other than `out`).

import { flagAll, parseArgs, UsageError } from './args.js';
import { INPUT_FLAGS, evalInputs, getDerivations, requireInput, sessionFor } from './eval-input.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const USAGE = `usage: imgeval instantiate [FILE | -E EXPR] [-A ATTRPATH]… [--arg NAME EXPR]… [--argstr NAME VALUE]…
                           [-I [NAME=]PATH]… [--store DIR]

Evaluates FILE (or EXPR) as nix-instantiate does: the value must be a derivation, or a set or
list of them (sets are searched one level deep, deeper where recurseForDerivations = true).
Writes each derivation's .drv file (and the paths it needs) into the store and prints the .drv
paths, one per line ("PATH!OUTPUT" when the value is an output other than "out").
  -A PATH            select an attribute path (numbers index lists); may repeat
  --arg N E          auto-call a function result with N = the expression E
  --argstr N S       auto-call a function result with N = the string S
  -I [NAME=]PATH     add a search path entry for <NAME/…>
  --store DIR        the store's physical root (default: $IMGEVAL_STORE, else
                     $XDG_DATA_HOME/imgeval/store)
Exit status: 0 ok, 1 evaluation error, 2 bad usage.`;

export const command: Command = {
  summary: 'evaluate derivations and write their .drv files into the store (like nix-instantiate)',
  usage: USAGE,
  async run(args: string[], io: IO): Promise<number> {
    const parsed = parseArgs(args, INPUT_FLAGS);
    const input = requireInput(parsed, 'instantiate');
    if (flagAll(parsed, '--attr').some(([p]) => p === undefined)) throw new UsageError('-A needs an attribute path');
    const cwd = process.cwd();
    const session = sessionFor(parsed, { cwd, env: process.env, trace: (l) => io.err(`${l}\n`) });
    try {
      const lines: string[] = [];
      for (const v of evalInputs(session, parsed, input, cwd)) {
        for (const d of getDerivations(session, v)) lines.push(d.outputName === 'out' ? d.drvPath : `${d.drvPath}!${d.outputName}`);
      }
      // As nix-instantiate without --add-root (imgeval has no --add-root yet).
      if (lines.length) io.err(`warning: you did not specify '--add-root'; the result might be removed by the garbage collector\n`);
      for (const l of lines) io.out(`${l}\n`);
      return 0;
    } finally {
      session.close();
    }
  },
};
