// store/db: the store database `<root>/nix/var/nix/db/db.sqlite` in Nix 2.8's schema (version 10)
// with Nix's own table names (ValidPaths, Refs, DerivationOutputs), opened the way Nix opens it
// (foreign keys on, WAL journal, synchronous=normal, a long busy timeout for concurrent
// processes). The only file of the project that knows SQL. It stores and returns rows; it never
// touches the store's files, computes hashes or decides what is valid.

import Database from 'better-sqlite3';
import { ImgError } from '../base/error.js';

/**
 * Nix 2.8's `src/libstore/schema.sql`, statement for statement: SQLite keeps each CREATE text in
 * `sqlite_master`, so `sqlite3 db.sqlite .schema` prints the same as for a store Nix created
 * (test/store/db.test.ts compares the two). The CA-derivations tables (`Realisations`,
 * `RealisationsRefs`, `ca-schema`) are created by Nix only with the experimental
 * `ca-derivations` feature, so a default Nix 2.8 store does not have them and neither do we.
 */
const SCHEMA_SQL = `create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer, -- null implies "false"
    sigs             text, -- space-separated
    ca               text -- if not null, an assertion that the path is content-addressed; see ValidPathInfo
);

create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);

create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);

-- Paths can refer to themselves, causing a tuple (N, N) in the Refs
-- table.  This causes a deletion of the corresponding row in
-- ValidPaths to cause a foreign key constraint violation (due to \`on
-- delete restrict' on the \`reference' column).  Therefore, explicitly
-- get rid of self-references.
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;

create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null, -- symbolic output id, usually "out"
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);

create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
`;

/** The schema version Nix 2.8 writes to `db/schema` (exactly these two bytes). */
export const SCHEMA_VERSION = '10';

/** One row of ValidPaths, as stored (hash as Nix writes it: `sha256:<hex>`). */
export interface PathRow {
  id: number;
  path: string;
  hash: string;
  registrationTime: number;
  deriver: string | null;
  narSize: number | null;
  ultimate: number | null;
  sigs: string | null;
  ca: string | null;
}

/** What a registration writes into ValidPaths (NULLs as Nix writes them). */
export interface PathRecord {
  path: string;
  hash: string;
  registrationTime: number;
  deriver: string | null;
  narSize: number | null;
  ultimate: boolean;
  sigs: string | null;
  ca: string | null;
}

/** SQLite's BINARY collation (bytewise) for ASCII store paths: what `order by path` gives. */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Busy timeout: writers wait for each other this long (Nix waits indefinitely, retrying). */
const BUSY_TIMEOUT_MS = 10 * 60 * 1000;

export class StoreDb {
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<StoreDb['prepare']>;

  private constructor(db: Database.Database) {
    this.db = db;
    this.stmts = this.prepare();
  }

  /** Opens (creating when `create`) the database file and makes sure the v10 schema exists. */
  static open(file: string, opts: { create: boolean; readonly?: boolean }): StoreDb {
    let db: Database.Database;
    try {
      db = new Database(file, {
        fileMustExist: !opts.create,
        readonly: opts.readonly === true,
        timeout: BUSY_TIMEOUT_MS,
      });
    } catch (e) {
      throw new ImgError('E_STORE', `cannot open the store database '${file}': ${(e as Error).message}`);
    }
    // As Nix's LocalStore::openDB: foreign keys, synchronous=normal (fsync-metadata), WAL, and
    // a large WAL auto-checkpoint.
    db.pragma('foreign_keys = 1');
    if (!opts.readonly) {
      db.pragma('synchronous = normal');
      if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') {
        db.pragma('journal_mode = wal');
      }
      db.pragma('wal_autocheckpoint = 40000');
      // Nix runs its schema script whenever it (re)creates the store; every statement is
      // `if not exists`, so an existing database is left as it is.
      const has = db.prepare(`select count(*) as n from sqlite_master where type = 'table' and name = 'ValidPaths'`).get() as { n: number };
      if (has.n === 0) db.exec(SCHEMA_SQL);
    }
    return new StoreDb(db);
  }

  private prepare() {
    const db = this.db;
    return {
      queryPath: db.prepare(
        'select id, path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca from ValidPaths where path = ?',
      ),
      queryId: db.prepare('select id from ValidPaths where path = ?').pluck(),
      allPaths: db.prepare('select path from ValidPaths order by path').pluck(),
      allRows: db.prepare(
        'select id, path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca from ValidPaths order by path',
      ),
      references: db
        .prepare('select path from Refs join ValidPaths on reference = id where referrer = (select id from ValidPaths where path = ?) order by path')
        .pluck(),
      referrers: db
        .prepare('select path from Refs join ValidPaths on referrer = id where reference = (select id from ValidPaths where path = ?) order by path')
        .pluck(),
      allRefs: db.prepare('select referrer, reference from Refs'),
      insertPath: db.prepare(
        'insert into ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca) values (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updatePath: db.prepare('update ValidPaths set narSize = ?, hash = ?, ultimate = ?, sigs = ?, ca = ? where path = ?'),
      insertRef: db.prepare('insert or replace into Refs (referrer, reference) values (?, ?)'),
      // All references of one path in one statement: the ids of the valid paths among a JSON
      // array of paths (each path once; sorted, as the path index is walked in order).
      insertRefsByPath: db.prepare(
        'insert or replace into Refs (referrer, reference) select ?, id from ValidPaths where path in (select value from json_each(?)) order by path',
      ),
      // The closure of a JSON array of paths under references (Nix's computeFSClosure), with
      // each path's id and narSize; then the Refs rows leaving a JSON array of ids.
      closureRows: db.prepare(
        'with recursive c(id) as (select id from ValidPaths where path in (select value from json_each(?)) ' +
          'union select reference from Refs join c on referrer = c.id) ' +
          'select v.id, v.path, v.narSize from c join ValidPaths v on v.id = c.id',
      ),
      refsFromIds: db.prepare('select referrer, reference from Refs where referrer in (select value from json_each(?))').raw(true),
      deleteRefsFrom: db.prepare('delete from Refs where referrer = ?'),
      deletePath: db.prepare('delete from ValidPaths where id = ?'),
      insertOutput: db.prepare('insert or replace into DerivationOutputs (drv, id, path) values (?, ?, ?)'),
      outputs: db
        .prepare('select id, path from DerivationOutputs where drv = (select id from ValidPaths where path = ?) order by id'),
      derivers: db
        .prepare('select v.path from DerivationOutputs d join ValidPaths v on d.drv = v.id where d.path = ? order by v.path')
        .pluck(),
    };
  }

  /**
   * Runs `fn` in one write transaction (`begin immediate`, so two writers queue on the busy
   * timeout instead of failing on a lock upgrade). Rolls back when `fn` throws.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_CONSTRAINT')) {
        throw new ImgError('E_STORE', `store database constraint violated: ${(e as Error).message}`);
      }
      throw e;
    }
  }

  queryPathRow(path: string): PathRow | undefined {
    return this.stmts.queryPath.get(path) as PathRow | undefined;
  }

  queryPathId(path: string): number | undefined {
    return this.stmts.queryId.get(path) as number | undefined;
  }

  isValid(path: string): boolean {
    return this.queryPathId(path) !== undefined;
  }

  /** Every valid path, sorted. */
  queryValidPaths(): string[] {
    return this.stmts.allPaths.all() as string[];
  }

  /** Every ValidPaths row, sorted by path. */
  queryAllRows(): PathRow[] {
    return this.stmts.allRows.all() as PathRow[];
  }

  /** The references of a path (sorted store paths; a self-reference included). */
  queryReferences(path: string): string[] {
    return this.stmts.references.all(path) as string[];
  }

  queryReferrers(path: string): string[] {
    return this.stmts.referrers.all(path) as string[];
  }

  /** Every Refs row as (referrer id, reference id). */
  queryAllRefs(): { referrer: number; reference: number }[] {
    return this.stmts.allRefs.all() as { referrer: number; reference: number }[];
  }

  /** DerivationOutputs rows of a `.drv` path: output name → output path. */
  queryDerivationOutputs(drvPath: string): Map<string, string> {
    const rows = this.stmts.outputs.all(drvPath) as { id: string; path: string }[];
    return new Map(rows.map((r) => [r.id, r.path]));
  }

  /** The valid `.drv` paths that declare `outputPath` as one of their outputs. */
  queryValidDerivers(outputPath: string): string[] {
    return this.stmts.derivers.all(outputPath) as string[];
  }

  /**
   * Inserts a path, or updates it when it is already valid (Nix's registerValidPath updates
   * narSize, hash, ultimate, sigs and ca of a valid path and keeps its id and time). Returns the
   * row id. Call inside `transaction`.
   */
  upsertPath(r: PathRecord): number {
    const id = this.queryPathId(r.path);
    if (id !== undefined) {
      this.stmts.updatePath.run(r.narSize, r.hash, r.ultimate ? 1 : null, r.sigs, r.ca, r.path);
      return id;
    }
    const res = this.stmts.insertPath.run(r.path, r.hash, r.registrationTime, r.deriver, r.narSize, r.ultimate ? 1 : null, r.sigs, r.ca);
    return Number(res.lastInsertRowid);
  }

  /** Replaces the Refs rows of `referrer` by `references` (row ids). Call inside `transaction`. */
  setReferences(referrer: number, references: Iterable<number>): void {
    this.stmts.deleteRefsFrom.run(referrer);
    for (const r of references) this.stmts.insertRef.run(referrer, r);
  }

  /**
   * Replaces the Refs rows of `referrer` by the valid ones among `paths` (distinct store paths)
   * in one statement; returns how many were valid. Call inside `transaction`.
   */
  setReferencesByPath(referrer: number, paths: readonly string[]): number {
    this.stmts.deleteRefsFrom.run(referrer);
    if (paths.length === 0) return 0;
    return this.stmts.insertRefsByPath.run(referrer, JSON.stringify(paths)).changes;
  }

  /** The closure of `paths` under references in one query: each path's row id, path and narSize. */
  queryClosureRows(paths: readonly string[]): { id: number; path: string; narSize: number | null }[] {
    return this.stmts.closureRows.all(JSON.stringify(paths)) as { id: number; path: string; narSize: number | null }[];
  }

  /**
   * The closure of `paths` under references in two queries: each path's row id, narSize and
   * references (sorted by path, as queryReferences). Paths that are not valid are left out of
   * the roots (the caller checks them).
   */
  queryClosureGraph(paths: readonly string[]): Map<string, { id: number; narSize: number | null; references: string[] }> {
    const rows = this.queryClosureRows(paths);
    const byId = new Map<number, { path: string; narSize: number | null; references: string[] }>();
    for (const r of rows) byId.set(r.id, { path: r.path, narSize: r.narSize, references: [] });
    if (rows.length > 0) {
      const refs = this.stmts.refsFromIds.all(JSON.stringify(rows.map((r) => r.id))) as [number, number][];
      for (const [referrer, reference] of refs) byId.get(referrer)!.references.push(byId.get(reference)!.path);
    }
    const out = new Map<string, { id: number; narSize: number | null; references: string[] }>();
    for (const [id, r] of byId) {
      r.references.sort(comparePaths);
      out.set(r.path, { id, narSize: r.narSize, references: r.references });
    }
    return out;
  }

  /** Records one output of a registered `.drv` (DerivationOutputs). Call inside `transaction`. */
  addDerivationOutput(drvId: number, outputName: string, outputPath: string): void {
    this.stmts.insertOutput.run(drvId, outputName, outputPath);
  }

  /**
   * Removes paths from ValidPaths (their outgoing Refs first, so paths that refer to each other
   * can go in one call). Fails on a path that a remaining valid path still refers to (Nix's
   * `on delete restrict`). Call inside `transaction`.
   */
  deletePaths(paths: Iterable<string>): void {
    const ids: number[] = [];
    for (const p of paths) {
      const id = this.queryPathId(p);
      if (id !== undefined) ids.push(id);
    }
    for (const id of ids) this.stmts.deleteRefsFrom.run(id);
    for (const id of ids) this.stmts.deletePath.run(id);
  }

  /** The `sqlite_sequence` value of ValidPaths: how many rows were ever inserted. */
  insertedCount(): number {
    const r = this.db.prepare(`select seq from sqlite_sequence where name = 'ValidPaths'`).get() as { seq: number } | undefined;
    return r?.seq ?? 0;
  }

  /** SQLite's integrity and foreign-key checks: the problems found (none when healthy). */
  integrityCheck(): string[] {
    const out: string[] = [];
    for (const r of this.db.pragma('integrity_check') as { integrity_check: string }[]) {
      if (r.integrity_check !== 'ok') out.push(`sqlite integrity: ${r.integrity_check}`);
    }
    for (const r of this.db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
      out.push(`sqlite foreign key: row ${r.rowid} of ${r.table} refers to a missing row of ${r.parent}`);
    }
    return out;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
