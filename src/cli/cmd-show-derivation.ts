// cli/cmd-show-derivation: `imgeval show-derivation`, like `nix show-derivation`: prints the
// JSON of derivations given as `.drv` store paths (read from the store) or as a file /
// expression to evaluate (their `.drv`s are written first); `-r` adds every derivation of
// their closure. Keys are the drvPaths in sorted order, as Nix prints them.

import { ImgError } from '../base/error.js';
import { showDerivationJson } from '../derivation/derivation.js';
import { isDerivationPath, toStorePath } from '../derivation/store-path.js';
import { flagSet, parseArgs } from './args.js';
import { INPUT_FLAGS, evalInputs, getDerivations, requireInput, sessionFor } from './eval-input.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const USAGE = `usage: imgeval show-derivation (DRVPATH… | FILE | -E EXPR) [-A ATTRPATH]… [--arg NAME EXPR]…
                               [--argstr NAME VALUE]… [-I [NAME=]PATH]… [-r] [--store DIR]

Prints derivations as JSON, as \`nix show-derivation\` does. Arguments that are .drv store paths
(/nix/store/…​.drv, or a path below the store root) are read from the store; otherwise FILE or
EXPR is evaluated like 'imgeval instantiate' and its derivations are shown.
  -r, --recursive    also show every derivation they depend on
  --store DIR        the store's physical root`;

const FLAGS = { ...INPUT_FLAGS, '--recursive': { arity: 0 as const, aliases: ['-r'] } };

export const command: Command = {
  summary: 'print derivations as JSON (like nix show-derivation)',
  usage: USAGE,
  async run(args: string[], io: IO): Promise<number> {
    const parsed = parseArgs(args, FLAGS);
    const cwd = process.cwd();
    const session = sessionFor(parsed, { cwd, env: process.env, trace: (l) => io.err(`${l}\n`) });
    try {
      const roots = new Set<string>();
      const drvArgs = !flagSet(parsed, '--expr') && parsed.positional.length > 0 && parsed.positional.every((p) => p.endsWith('.drv'));
      if (drvArgs) {
        const store = session.store();
        for (const p of parsed.positional) {
          const logical = store.toStorePathOf(p.startsWith('/') ? p : `${cwd}/${p}`) ?? p;
          const sp = toStorePath(logical).storePath;
          if (!isDerivationPath(sp)) throw new ImgError('E_USAGE', `'${p}' is not a derivation`);
          store.requirePathInfo(sp);
          roots.add(sp);
        }
      } else {
        const input = requireInput(parsed, 'show-derivation');
        for (const v of evalInputs(session, parsed, input, cwd)) for (const d of getDerivations(session, v)) roots.add(d.drvPath);
      }
      let paths = [...roots];
      if (flagSet(parsed, '--recursive')) paths = session.store().computeFSClosure(paths);
      paths = paths.filter(isDerivationPath).sort();
      io.out(showDerivationJson(paths.map((drvPath) => ({ drvPath, drv: session.readDerivation(drvPath) }))));
      return 0;
    } finally {
      session.close();
    }
  },
};
