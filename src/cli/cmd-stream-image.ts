// cli/cmd-stream-image: `imgeval stream-image CONF [-t NAME:TAG]`, what the script a
// streamLayeredImage builds runs: writes the image's docker-archive to stdout (for `| docker
// load`), made from the store on the fly as the conf describes (image/builders/layered-image.ts).
// The physical store is the directory holding CONF, so it works wherever the store root is.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { readConf, writeLayeredArchive } from '../image/builders/index.js';
import { flagValue, parseArgs, UsageError } from './args.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const USAGE = `usage: imgeval stream-image CONF [-t|--repo_tag NAME:TAG]

Writes the docker-archive of a streamLayeredImage to stdout (CONF is its <name>-conf.json in the
store; the script the image builds calls this): ./result | docker load`;

export const command: Command = {
  summary: "write a streamLayeredImage's archive to stdout (what its script runs)",
  usage: USAGE,
  async run(args: string[], io: IO): Promise<number> {
    const p = parseArgs(args, { '--repo_tag': { arity: 1, aliases: ['-t'] } });
    if (p.positional.length !== 1) throw new UsageError('stream-image takes one CONF argument');
    if (process.stdout.isTTY) throw new UsageError('refusing to write an image archive to a terminal; pipe it: ./result | docker load');
    const confPhysical = resolve(p.positional[0]!);
    const conf = readConf(confPhysical);
    const tag = flagValue(p, '--repo_tag');
    if (tag) conf.repoTag = tag;
    const storePhysical = dirname(confPhysical);
    const loc = { storeDir: '/nix/store', toPhysical: (s: string) => storePhysical + s.slice('/nix/store'.length) };
    const work = mkdtempSync(join(tmpdir(), 'imgeval-stream-'));
    try {
      await writeLayeredArchive(conf, loc, {
        write: (c) =>
          new Promise<void>((res, rej) => {
            process.stdout.write(Buffer.from(c), (e) => (e ? rej(e) : res()));
          }),
      }, work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    void io;
    return 0;
  },
};
