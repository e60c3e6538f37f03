// store/store-root: where the physical store lives and what it looks like on disk. Picks the
// root (`--store DIR`, else IMGEVAL_STORE, else $XDG_DATA_HOME/imgeval/store, else
// ~/.local/share/imgeval/store) and lays it out as a Nix chroot store: `<root>/nix/store`,
// `<root>/nix/var/nix/{db,gcroots,profiles,temproots}` with the files Nix 2.8 creates itself
// (`db/schema` = "10", `db/big-lock`, `db/reserved`, `gc.lock`, `gcroots/profiles`, …). The
// logical store dir is always `/nix/store`. Never opens the database and refuses the real /nix.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync, writeSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ImgError } from '../base/error.js';
import { SCHEMA_VERSION } from './db.js';

/** Size of `db/reserved`, Nix's `gc-reserved-space` default (freed when the disk is full). */
const RESERVED_SIZE = 8 * 1024 * 1024;

export interface StoreLayout {
  /** The physical root: `<root>/nix/store` holds the store paths. */
  root: string;
  /** `<root>/nix/store` */
  realStoreDir: string;
  /** `<root>/nix/var/nix` */
  stateDir: string;
  /** `<root>/nix/var/nix/db` */
  dbDir: string;
  /** `<root>/nix/var/nix/db/db.sqlite` */
  dbFile: string;
  gcRootsDir: string;
  tempRootsDir: string;
  profilesDir: string;
}

/** Chooses the physical root from the `--store` flag and the environment. */
export function resolveStoreRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  let root: string;
  if (flag !== undefined && flag !== '') root = flag;
  else if (env.IMGEVAL_STORE) root = env.IMGEVAL_STORE;
  else {
    const data = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
    root = join(data, 'imgeval', 'store');
  }
  root = resolve(root);
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    /* not created yet */
  }
  if (real === '/') {
    throw new ImgError('E_STORE', `refusing to use '${root}' as the store root: imgeval never writes to the real /nix`, undefined, [
      { message: "pass '--store DIR' or set IMGEVAL_STORE to a directory of its own" },
    ]);
  }
  return root;
}

export function storeLayout(root: string): StoreLayout {
  const stateDir = join(root, 'nix', 'var', 'nix');
  const dbDir = join(stateDir, 'db');
  return {
    root,
    realStoreDir: join(root, 'nix', 'store'),
    stateDir,
    dbDir,
    dbFile: join(dbDir, 'db.sqlite'),
    gcRootsDir: join(stateDir, 'gcroots'),
    tempRootsDir: join(stateDir, 'temproots'),
    profilesDir: join(stateDir, 'profiles'),
  };
}

function touch(path: string, mode: number): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', mode));
}

function userName(): string {
  return process.env.USER || process.env.LOGNAME || (process.getuid?.() === 0 ? 'root' : 'nobody');
}

/**
 * Creates the directories and files of a Nix 2.8 chroot store that are missing (what Nix itself
 * creates when it opens `local?root=<root>`). Returns true when the store is new (no `schema`).
 */
export function ensureLayout(l: StoreLayout): boolean {
  const user = userName();
  for (const d of [
    l.realStoreDir,
    l.dbDir,
    l.tempRootsDir,
    join(l.gcRootsDir, 'per-user', user),
    join(l.gcRootsDir, 'auto'),
    join(l.profilesDir, 'per-user', user),
    join(l.realStoreDir, '.links'),
  ]) {
    mkdirSync(d, { recursive: true });
  }
  const profilesLink = join(l.gcRootsDir, 'profiles');
  try {
    lstatSync(profilesLink);
  } catch {
    try {
      symlinkSync(l.profilesDir, profilesLink);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
  }
  touch(join(l.dbDir, 'big-lock'), 0o600);
  touch(join(l.stateDir, 'gc.lock'), 0o600);
  const reserved = join(l.dbDir, 'reserved');
  let size = -1;
  try {
    size = statSync(reserved).size;
  } catch {
    /* missing */
  }
  if (size !== RESERVED_SIZE) {
    // As Nix's reserveSpace: a real (not sparse) file, so deleting it frees space.
    const fd = openSync(reserved, 'w', 0o600);
    try {
      const block = Buffer.alloc(1 << 20, 'X');
      for (let n = 0; n < RESERVED_SIZE; n += block.length) writeSync(fd, block);
    } finally {
      closeSync(fd);
    }
  }
  return !existsSync(join(l.dbDir, 'schema'));
}

/** Writes `db/schema` (exactly `10`, no newline: Nix rejects anything else). */
export function writeSchemaFile(l: StoreLayout): void {
  writeFileSync(join(l.dbDir, 'schema'), SCHEMA_VERSION);
}

/** Checks `db/schema` of an existing store. */
export function checkSchemaFile(l: StoreLayout): void {
  const file = join(l.dbDir, 'schema');
  const v = readFileSync(file, 'latin1');
  if (v !== SCHEMA_VERSION) {
    throw new ImgError('E_STORE', `store schema version '${v.trim()}' in '${file}' is not supported (imgeval uses Nix 2.8's version ${SCHEMA_VERSION})`);
  }
}
