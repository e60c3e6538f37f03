// Test helper: runs the real Nix 2.8 tools in a private environment so that nothing touches the
// real /nix: config, state and home under a temp dir, no substituters, and either the dummy store
// (pure commands) or a chroot store `local?root=<tmp>` (commands that add paths).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let base: string | undefined;

/** A private temp dir with nix.conf, state and home dirs (made once per process). */
export function nixHome(): string {
  if (base) return base;
  base = mkdtempSync(join(tmpdir(), 'imgeval-nix-'));
  mkdirSync(join(base, 'etc'));
  mkdirSync(join(base, 'var/nix'), { recursive: true });
  mkdirSync(join(base, 'var/log/nix'), { recursive: true });
  mkdirSync(join(base, 'home'));
  writeFileSync(
    join(base, 'etc/nix.conf'),
    'build-users-group =\nsandbox = false\nsubstituters =\nexperimental-features = nix-command\n',
  );
  return base;
}

/** The environment for a Nix command; `store` = a chroot store root, or undefined for dummy://. */
export function nixEnv(store?: string): NodeJS.ProcessEnv {
  const b = nixHome();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(b, 'home'),
    NIX_CONF_DIR: join(b, 'etc'),
    NIX_STATE_DIR: join(b, 'var/nix'),
    NIX_LOCALSTATE_DIR: join(b, 'var'),
    NIX_LOG_DIR: join(b, 'var/log/nix'),
    NIX_REMOTE: store ? `local?root=${store}` : 'dummy://',
    NIX_CONFIG: 'substituters =',
    PAGER: 'cat',
    LC_ALL: 'C',
  };
  return env;
}

/** Runs a Nix tool and returns its stdout as a Buffer (throws with stderr on failure). */
export function runNix(cmd: string, args: string[], opts: { store?: string; cwd?: string; input?: Buffer } = {}): Buffer {
  return execFileSync(cmd, args, {
    env: nixEnv(opts.store),
    cwd: opts.cwd,
    input: opts.input,
    maxBuffer: 1 << 30,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** A fresh chroot store root under the private temp dir. */
export function freshStore(): string {
  return mkdtempSync(join(nixHome(), 'store-'));
}
