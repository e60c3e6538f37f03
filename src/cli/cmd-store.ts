// cli/cmd-store: `imgeval store …`, the local store's maintenance commands: verify (re-hash every
// valid path), path-info (text or `nix path-info --json`), add (a file or tree, recursive or
// flat), gc (delete what no root reaches), delete, roots. Parses arguments and prints; the work
// is in store/local-store.ts.

import { lstatSync, readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ImgError } from '../base/error.js';
import { isHashAlgo } from '../base/hash.js';
import { LocalStore } from '../store/local-store.js';
import { flagSet, flagValue, parseArgs, UsageError, type FlagSpec } from './args.js';
import type { IO } from './io.js';
import type { Command } from './main.js';

const USAGE = `usage: imgeval store <subcommand> [--store DIR] …

subcommands:
  verify                              re-hash every valid path and compare with the database
  path-info PATH… [--json] [-r] [-s]  show what the store knows about paths (-r: their closures)
  add PATH [--name N] [--flat] [--algo A]
                                      add a file or directory; prints its store path
  gc [--dry-run]                      delete every path no GC root reaches
  delete PATH…                        delete paths that nothing uses
  roots                               list the GC roots

The store is '--store DIR', else $IMGEVAL_STORE, else $XDG_DATA_HOME/imgeval/store
(~/.local/share/imgeval/store). Its layout is a Nix chroot store: real Nix can read it with
'nix-store --store local?root=DIR'.`;

const STORE_FLAG: Record<string, FlagSpec> = { '--store': { arity: 1 } };

function openStore(p: ReturnType<typeof parseArgs>, io: IO, create: boolean): LocalStore {
  return LocalStore.open({ root: flagValue(p, '--store'), create, onLockWait: (what) => io.err(`${what}…\n`) });
}

/** A store path given as `/nix/store/…`, as a physical path in the store, or as a link (`result`) to one. */
function storePathArg(store: LocalStore, arg: string): string {
  const direct = store.toStorePathOf(arg);
  if (direct) return direct;
  let p = resolve(arg);
  for (let i = 0; i < 40; i++) {
    const inStore = store.toStorePathOf(p);
    if (inStore) return inStore;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      throw new ImgError('E_STORE', `path '${arg}' does not exist`);
    }
    if (!st.isSymbolicLink()) break;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new ImgError('E_STORE', `path '${arg}' is not in the store at '${store.root}'`);
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(2);
}

async function verify(argv: string[], io: IO): Promise<number> {
  const p = parseArgs(argv, { ...STORE_FLAG });
  if (p.positional.length) throw new UsageError(`'store verify' takes no arguments`);
  const store = openStore(p, io, false);
  try {
    io.err(`checking the contents of the store at '${store.root}'…\n`);
    const r = store.verify();
    for (const prob of r.problems) io.err(`error: ${prob.message}\n`);
    io.out(`checked ${r.checked} paths: ${r.problems.length === 0 ? 'ok' : `${r.problems.length} problem(s)`}\n`);
    return r.problems.length === 0 ? 0 : 1;
  } finally {
    store.close();
  }
}

async function pathInfo(argv: string[], io: IO): Promise<number> {
  const p = parseArgs(argv, {
    ...STORE_FLAG,
    '--json': { arity: 0 },
    '--closure': { arity: 0, aliases: ['-r', '--recursive'] },
    '--size': { arity: 0, aliases: ['-s'] },
  });
  if (p.positional.length === 0) throw new UsageError(`'store path-info' needs at least one PATH`);
  const store = openStore(p, io, false);
  try {
    const paths = p.positional.map((a) => storePathArg(store, a));
    for (const sp of paths) store.requirePathInfo(sp);
    const closure = flagSet(p, '--closure');
    const list = closure ? store.computeFSClosure(paths) : [...new Set(paths)].sort();
    if (flagSet(p, '--json')) {
      io.out(JSON.stringify(store.pathInfoJSON(list)) + '\n');
    } else if (flagSet(p, '--size')) {
      const w = Math.max(...list.map((x) => x.length));
      for (const sp of list) io.out(`${sp.padEnd(w)}\t${String(store.requirePathInfo(sp).narSize).padStart(12)}\n`);
    } else {
      for (const sp of list) io.out(`${sp}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}

async function add(argv: string[], io: IO): Promise<number> {
  const p = parseArgs(argv, { ...STORE_FLAG, '--name': { arity: 1 }, '--flat': { arity: 0 }, '--algo': { arity: 1 } });
  if (p.positional.length !== 1) throw new UsageError(`'store add' takes exactly one PATH`);
  const algo = flagValue(p, '--algo') ?? 'sha256';
  if (!isHashAlgo(algo)) throw new UsageError(`unknown hash algorithm '${algo}' (md5, sha1, sha256, sha512)`);
  const store = openStore(p, io, true);
  try {
    const name = flagValue(p, '--name');
    const path = store.addToStore(p.positional[0]!, {
      method: flagSet(p, '--flat') ? 'flat' : 'recursive',
      algo,
      ...(name !== undefined ? { name } : {}),
    });
    io.out(`${path}\n`);
    return 0;
  } finally {
    store.close();
  }
}

async function gc(argv: string[], io: IO): Promise<number> {
  const p = parseArgs(argv, { ...STORE_FLAG, '--dry-run': { arity: 0, aliases: ['--print-dead'] } });
  if (p.positional.length) throw new UsageError(`'store gc' takes no arguments`);
  const store = openStore(p, io, false);
  try {
    const r = store.collectGarbage({ dryRun: flagSet(p, '--dry-run') });
    for (const d of [...r.deleted, ...r.deletedInvalid].sort()) io.out(r.dryRun ? `${d}\n` : `deleted '${d}'\n`);
    io.out(
      r.dryRun
        ? `${r.deleted.length} store paths would be deleted, ${mib(r.bytesFreed)} MiB would be freed\n`
        : `${r.deleted.length} store paths deleted, ${mib(r.bytesFreed)} MiB freed\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}

async function del(argv: string[], io: IO): Promise<number> {
  const p = parseArgs(argv, { ...STORE_FLAG });
  if (p.positional.length === 0) throw new UsageError(`'store delete' needs at least one PATH`);
  const store = openStore(p, io, false);
  try {
    const paths = p.positional.map((a) => storePathArg(store, a));
    const r = store.collectGarbage({ only: paths });
    for (const d of r.deleted) io.out(`deleted '${d}'\n`);
    io.out(`${r.deleted.length} store paths deleted, ${mib(r.bytesFreed)} MiB freed\n`);
    return 0;
  } finally {
    store.close();
  }
}

async function roots(argv: string[], io: IO): Promise<number> {
  const p = parseArgs(argv, { ...STORE_FLAG });
  if (p.positional.length) throw new UsageError(`'store roots' takes no arguments`);
  const store = openStore(p, io, false);
  try {
    for (const [link, path] of [...store.findRoots()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) io.out(`${link} -> ${path}\n`);
    return 0;
  } finally {
    store.close();
  }
}

const SUBCOMMANDS: Record<string, (argv: string[], io: IO) => Promise<number>> = {
  verify,
  'path-info': pathInfo,
  add,
  gc,
  delete: del,
  roots,
};

export const command: Command = {
  summary: 'inspect and maintain the local store (verify, path-info, add, gc, roots)',
  usage: USAGE,
  async run(args: string[], io: IO): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === undefined) throw new UsageError(`'store' needs a subcommand (verify, path-info, add, gc, delete, roots)`);
    const f = SUBCOMMANDS[sub];
    if (!f) throw new UsageError(`unknown store subcommand '${sub}' (verify, path-info, add, gc, delete, roots)`);
    return f(rest, io);
  },
};
