// Test helpers for image tests: a temporary "store" directory holding store-like paths (busybox,
// a text file), a StoreLocation for it, and a runner for the shared image-check oracle.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { StoreLocation } from '../../src/image/layer.js';
import { ORACLES } from '../helpers/tools.js';

export const BUSYBOX = '/usr/bin/busybox';
export const BUSYBOX_PATH = '/nix/store/ap5lw0pk87zllpr8psdiqgxx50yqpp1h-busybox';
export const HELLO_PATH = '/nix/store/5pjf9r20rqi9k9z26mkhfzc45gkvzbgg-hello.txt';
export const APP_PATH = '/nix/store/wv53gfd66gi9rxiyrm4q6pmxl59x229q-app';

export interface TempStore extends StoreLocation {
  readonly root: string;
  readonly physicalStore: string;
  cleanup(): void;
}

/** A temp dir with `<root>/nix/store/{busybox,hello.txt,app}`; mtimes set to `mtime`. */
export function makeStore(mtime = 1): TempStore {
  const root = mkdtempSync(join(tmpdir(), 'imgeval-image-'));
  const store = join(root, 'nix', 'store');
  mkdirSync(store, { recursive: true });
  const bb = join(store, BUSYBOX_PATH.slice(11));
  mkdirSync(join(bb, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(bb, 'bin', 'busybox'));
  chmodSync(join(bb, 'bin', 'busybox'), 0o555);
  symlinkSync('busybox', join(bb, 'bin', 'sh'));
  const hello = join(store, HELLO_PATH.slice(11));
  writeFileSync(hello, 'hello from the store\n');
  chmodSync(hello, 0o444);
  const app = join(store, APP_PATH.slice(11));
  mkdirSync(join(app, 'bin'), { recursive: true });
  writeFileSync(join(app, 'bin', 'app'), `#!${BUSYBOX_PATH}/bin/sh\necho "app says: $(${BUSYBOX_PATH}/bin/busybox cat ${HELLO_PATH})"\n`);
  chmodSync(join(app, 'bin', 'app'), 0o555);
  for (const d of [join(bb, 'bin'), bb, join(app, 'bin'), app]) chmodSync(d, 0o555);
  for (const p of [join(bb, 'bin', 'busybox'), hello, join(app, 'bin', 'app'), join(bb, 'bin'), bb, join(app, 'bin'), app]) utimesSync(p, mtime, mtime);
  return {
    root,
    physicalStore: store,
    storeDir: '/nix/store',
    toPhysical: (p: string) => join(store, p.slice('/nix/store/'.length)),
    cleanup() {
      spawnSync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function tempDir(prefix = 'imgeval-out-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sha256File(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

/** Runs ORACLES/image-check; returns its exit status and output. */
export function imageCheck(archive: string, ref: string, cmd: string[]): { status: number; out: string } {
  const r = spawnSync(join(ORACLES, 'image-check'), [archive, ref, '--', ...cmd], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
