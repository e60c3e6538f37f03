// build/sandbox: the private mount (and pid) namespace a process builder runs in, so that it sees
// the store at its logical path /nix/store: a per-build directory is bind-mounted on /nix/store,
// holding read-only bind mounts of the inputs' closure and room for the outputs (which the
// builder creates there, i.e. in the build's temporary directory inside the physical store);
// the build directory is bind-mounted on /tmp. `unshare --mount --pid` as root, with `--user
// --map-root-user` otherwise; `setpriv --pdeathsig KILL` and the pid namespace make the whole
// builder process tree die with imgeval (kill -9 included). Never touches the real /nix: every
// mount is private to the namespace.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ImgError } from '../base/error.js';
import { STORE_DIR } from '../derivation/store-path.js';

export interface Sandbox {
  /** The command prefix that runs `sh SCRIPT builder args…` inside the namespace. */
  prefix: string[];
  /** Absolute path of `mount`. */
  mount: string;
  sh: string;
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(dir || '.', name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Single-quotes a string for sh (a byte string given as latin1 is written back as its bytes). */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

let cached: Sandbox | ImgError | undefined;

function namespaceError(why: string): ImgError {
  return new ImgError('E_BUILD', `cannot run process builders: a private mount namespace could not be made (${why})`, undefined, [
    { message: 'imgeval runs builders with `unshare` (util-linux) so that they see the store at /nix/store' },
    {
      message:
        'as a non-root user this needs unprivileged user namespaces: `sudo sysctl kernel.unprivileged_userns_clone=1` ' +
        '(Debian/Ubuntu) or `sudo sysctl user.max_user_namespaces=15000`; in a container, run it with --privileged or ' +
        'allow the unshare/mount syscalls',
    },
    { message: `the directory ${STORE_DIR} must exist (empty is fine) as the mount point: \`sudo mkdir -p ${STORE_DIR}\`` },
  ]);
}

/**
 * Finds out (once per process) how to make the namespace and proves it works by bind-mounting a
 * scratch directory on /nix/store inside one. Throws the ImgError that says how to fix it.
 */
export function sandbox(): Sandbox {
  if (cached instanceof ImgError) throw cached;
  if (cached) return cached;
  const unshare = which('unshare');
  const mount = which('mount');
  const sh = existsSync('/bin/sh') ? '/bin/sh' : which('sh');
  if (!unshare || !mount || !sh) {
    cached = namespaceError(`'${!unshare ? 'unshare' : !mount ? 'mount' : 'sh'}' was not found`);
    throw cached;
  }
  if (!existsSync(STORE_DIR)) {
    cached = namespaceError(`${STORE_DIR} does not exist`);
    throw cached;
  }
  const setpriv = which('setpriv');
  const root = process.getuid?.() === 0;
  const ns = [unshare, ...(root ? [] : ['--user', '--map-root-user']), '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--mount-proc'];
  const prefix = setpriv ? [setpriv, '--pdeathsig', 'KILL', ...ns] : ns;
  const probe = mkdtempSync(join(tmpdir(), 'imgeval-ns-probe-'));
  try {
    mkdirSync(join(probe, 'x'));
    const r = spawnSync(prefix[0]!, [...prefix.slice(1), sh, '-c', `${mount} --bind ${shQuote(probe)} ${STORE_DIR} && test -d ${STORE_DIR}/x`], {
      encoding: 'utf8',
      timeout: 20000,
    });
    if (r.status !== 0) {
      const why = (r.stderr || r.error?.message || `exit status ${r.status}`).trim().split('\n').pop()!;
      cached = namespaceError(why);
      throw cached;
    }
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
  cached = { prefix, mount, sh };
  return cached;
}

/**
 * The script run by `sh` inside the namespace: mounts `storeView` on /nix/store, each input
 * read-only at its place in it (mount points already made), `buildRoot` on /tmp, then enters
 * the build directory and execs the builder ("$@").
 */
export function sandboxScript(
  sb: Sandbox,
  opts: { storeView: string; inputs: { physical: string; base: string }[]; buildRoot: string; buildTop: string; stackLimit?: string },
): string {
  const m = sb.mount;
  const lines = ['set -e', `${m} --bind ${shQuote(opts.storeView)} ${STORE_DIR}`];
  // bin/imgeval.js raised the stack limit for the evaluator: the builder gets the user's back
  // (KiB or 'unlimited'), as Nix restores its own for builders.
  if (opts.stackLimit !== undefined && /^([0-9]+|unlimited)$/.test(opts.stackLimit)) lines.push(`ulimit -S -s ${opts.stackLimit} 2>/dev/null || true`);
  for (const i of opts.inputs) {
    const dst = shQuote(`${STORE_DIR}/${i.base}`);
    // Read-only where the kernel allows it (a user namespace may lock the flags of the source mount).
    lines.push(`${m} --bind -o ro ${shQuote(i.physical)} ${dst} 2>/dev/null || ${m} --bind ${shQuote(i.physical)} ${dst}`);
  }
  lines.push(`${m} --bind ${shQuote(opts.buildRoot)} /tmp`);
  // `cd` makes sh set OLDPWD; the builder gets exactly the environment it was given.
  lines.push(`cd ${shQuote(opts.buildTop)}`, 'unset OLDPWD');
  lines.push('exec "$@"');
  return lines.join('\n') + '\n';
}
