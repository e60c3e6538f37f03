// image/nix-db: the Nix store database inside an image (`includeNixDB`): `nix/var/nix/db/db.sqlite`
// in Nix 2.8's schema v10 plus the `schema` file (`10`), registering a closure with its narHash,
// narSize and references and a fixed registrationTime (what nixpkgs gets from `nix-store
// --load-db` of closureInfo's registration, then resetting the time: nixpkgs#289813), and the
// gcroots `nix/var/nix/gcroots/docker/<name>` → each root. Merges the rows of a base image's
// database when given one (nixpkgs shadows it instead). The SQL itself stays in store/db.ts.
// Never reads the clock; never writes outside the directory it is given.

import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '../base/error.js';
import { parseHash, printHash } from '../base/hash.js';
import { SCHEMA_VERSION, StoreDb } from '../store/db.js';

/** One path to register (narHash in any form Nix accepts). */
export interface DbPath {
  readonly path: string;
  readonly narHash: string;
  readonly narSize: number;
  readonly references: readonly string[];
}

export interface NixDbOptions {
  /** The image's root directory (physical, native string): the DB goes to `nix/var/nix/db`. */
  readonly root: string;
  readonly paths: readonly DbPath[];
  /** Store paths that get a gcroot symlink (the `contents`/`copyToRoot` items). */
  readonly gcroots: readonly string[];
  readonly registrationTime: number;
  /** A base image's db.sqlite (physical) whose valid paths are kept. */
  readonly baseDb?: string;
}

/** Reads the valid paths of a Nix database file (a base image's). */
export function readDbPaths(file: string): DbPath[] {
  let db: StoreDb;
  try {
    db = StoreDb.open(file, { create: false, readonly: true });
  } catch (e) {
    throw new ImgError('E_ARCHIVE', `the base image's Nix database cannot be read: ${(e as Error).message}`);
  }
  try {
    return db.queryAllRows().map((r) => ({ path: r.path, narHash: r.hash, narSize: r.narSize ?? 0, references: db.queryReferences(r.path) }));
  } finally {
    db.close();
  }
}

/** Writes the database and the gcroots under `opts.root`. */
export function writeNixDb(opts: NixDbOptions): void {
  const dbDir = join(opts.root, 'nix', 'var', 'nix', 'db');
  mkdirSync(dbDir, { recursive: true });
  const file = join(dbDir, 'db.sqlite');
  if (existsSync(file)) rmSync(file);
  const all = new Map<string, DbPath>();
  if (opts.baseDb) for (const p of readDbPaths(opts.baseDb)) all.set(p.path, p);
  for (const p of opts.paths) all.set(p.path, p);
  const paths = [...all.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const db = StoreDb.open(file, { create: true });
  try {
    db.transaction(() => {
      const ids = new Map<string, number>();
      for (const p of paths) {
        const h = parseHash(p.narHash, 'sha256');
        ids.set(
          p.path,
          db.upsertPath({
            path: p.path,
            hash: printHash('sha256', h.bytes, 'base16', true),
            registrationTime: opts.registrationTime,
            deriver: null,
            narSize: p.narSize || null,
            ultimate: false,
            sigs: null,
            ca: null,
          }),
        );
      }
      for (const p of paths) {
        const refs: number[] = [];
        for (const r of p.references) {
          const id = ids.get(r);
          if (id === undefined) throw new ImgError('E_IMAGE', `the Nix database would register '${p.path}' without its reference '${r}'`);
          refs.push(id);
        }
        db.setReferences(ids.get(p.path)!, refs);
      }
    });
  } finally {
    db.close();
  }
  for (const f of ['db.sqlite-wal', 'db.sqlite-shm']) rmSync(join(dbDir, f), { force: true });
  writeFileSync(join(dbDir, 'schema'), SCHEMA_VERSION);
  const gc = join(opts.root, 'nix', 'var', 'nix', 'gcroots', 'docker');
  mkdirSync(gc, { recursive: true });
  for (const r of [...new Set(opts.gcroots)].sort()) {
    const name = r.slice(r.lastIndexOf('/') + 1);
    const at = join(gc, Buffer.from(name, 'latin1').toString('utf8'));
    rmSync(at, { force: true });
    symlinkSync(Buffer.from(r, 'latin1'), at);
  }
}
