// cli/main: the composition root's entry. Dispatches `imgeval <command>` to one module per
// command (cmd-*.ts), each exporting `run(args, io): Promise<number>`. Renders user errors
// (ImgError) with a code frame and exit code 1; anything else is an internal error (exit 70).
// The only layer that writes to stdout/stderr.

import { isImgError } from '../base/error.js';
import { renderError } from '../base/code-frame.js';
import { UsageError } from './args.js';
import { stdio, type IO } from './io.js';

export interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: IO): Promise<number>;
}

/**
 * The commands, in the order `--help` lists them. Command `x` lives in `cmd-x.ts` and is loaded
 * only when it runs, so start-up pays for one command. The imports are written out (not computed
 * from the name) so that the bundler (esbuild.config.mjs) sees every command.
 */
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  parse: () => import('./cmd-parse.js'),
  eval: () => import('./cmd-eval.js'),
  instantiate: () => import('./cmd-instantiate.js'),
  'show-derivation': () => import('./cmd-show-derivation.js'),
  build: () => import('./cmd-build.js'),
  store: () => import('./cmd-store.js'),
  'prefetch-image': () => import('./cmd-prefetch-image.js'),
  push: () => import('./cmd-push.js'),
  'stream-image': () => import('./cmd-stream-image.js'),
};

async function loadCommand(name: string): Promise<Command | undefined> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  return load ? (await load()).command : undefined;
}

async function help(io: IO): Promise<void> {
  const lines = [
    'imgeval — evaluate .img files (the Nix language) and build reproducible container images',
    '',
    'usage: imgeval <command> [options]',
    '',
    'commands:',
  ];
  for (const name of Object.keys(COMMANDS)) {
    const c = await loadCommand(name);
    if (c) lines.push(`  ${name.padEnd(16)} ${c.summary}`);
  }
  lines.push('', "Run 'imgeval <command> --help' for a command's options.");
  io.out(text(lines.join('\n') + '\n'));
}

export async function main(argv: string[], io: IO = stdio()): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      await help(io);
      return name === undefined ? 2 : 0;
    }
    if (name === '--version') {
      io.out('imgeval 0.1.0\n');
      return 0;
    }
    const cmd = await loadCommand(name);
    if (!cmd) throw new UsageError(`unknown command '${name}' (run 'imgeval --help')`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(text(`${cmd.usage}\n`));
      return 0;
    }
    return await cmd.run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

/** Our own (UTF-16) text as the byte string that IO writes, so that e.g. '…' survives. */
function text(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

export function reportError(e: unknown, io: IO): number {
  if (e instanceof UsageError) {
    io.err(text(`imgeval: ${e.message}\n`));
    return 2;
  }
  if (isImgError(e)) {
    io.err(renderError(e, { color: io.errIsTTY }));
    return 1;
  }
  const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
  io.err(`imgeval: internal error (please report it): ${msg}\n`);
  return 70;
}
