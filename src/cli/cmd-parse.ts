// cli/cmd-parse: `imgeval parse FILE | -E EXPR | -` — parses and resolves names (with Nix 2.8's
// global names) without evaluating. Exit 0 when the input is valid, 1 with every rendered error
// on stderr when not, 2 on bad usage. `--json` prints the core AST (spans as [start, end]).

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ImgError } from '../base/error.js';
import { renderError } from '../base/code-frame.js';
import { SourceFile } from '../base/source.js';
import { parse } from '../syntax/index.js';
import { astToJSON } from '../syntax/ast-json.js';
import { NIX_2_8_GLOBAL_NAMES } from '../syntax/globals.js';
import { UsageError, flagSet, parseArgs, type FlagSpec } from './args.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const FLAGS: Record<string, FlagSpec> = {
  '--expr': { arity: 0, aliases: ['-E'] },
  '--json': { arity: 0 },
};

const USAGE = `usage: imgeval parse [--json] FILE
       imgeval parse [--json] -E EXPR
       imgeval parse [--json] -          (read standard input)

Parses FILE (or the expression EXPR) and resolves its variables against Nix 2.8's global
names, without evaluating it. Relative paths resolve against FILE's directory (the current
directory for -E and stdin). Exits 0 when the input is valid, 1 with the errors when not.

  -E, --expr   the argument is an expression, not a file
  --json       print the core AST as JSON (spans as [start, end] offsets)`;

/** A file system path (UTF-16) as a Nix byte string. */
function bytes(p: string): string {
  return Buffer.from(p, 'utf8').toString('latin1');
}

function readSource(arg: string, isExpr: boolean): SourceFile {
  const cwd = bytes(process.cwd());
  if (isExpr) return new SourceFile('(string)', bytes(arg), cwd);
  if (arg === '-') return new SourceFile('(stdin)', readFileSync(0).toString('latin1'), cwd);
  let text: string;
  try {
    text = readFileSync(arg).toString('latin1');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
    throw new ImgError('E_IO', `file '${bytes(arg)}' ${why}`);
  }
  return new SourceFile(bytes(arg), text, bytes(dirname(resolve(arg))));
}

export const command: Command = {
  summary: 'parse a file or expression and check its names, without evaluating',
  usage: USAGE,
  async run(args: string[], io: IO): Promise<number> {
    const p = parseArgs(args, FLAGS);
    if (p.positional.length !== 1) throw new UsageError(`parse takes exactly one ${flagSet(p, '--expr') ? 'expression' : 'file'} (run 'imgeval parse --help')`);
    const file = readSource(p.positional[0]!, flagSet(p, '--expr'));
    const r = parse(file, { scopes: [NIX_2_8_GLOBAL_NAMES] });
    if (!r.ok) {
      for (const e of r.errors) io.err(renderError(e, { color: io.errIsTTY }));
      return 1;
    }
    if (flagSet(p, '--json')) io.out(astToJSON(r.expr) + '\n');
    return 0;
  },
};
