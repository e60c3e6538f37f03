// store/local-store: the local store — a physical root laid out as a Nix 2.8 chroot store, whose
// logical store dir is /nix/store. Adds paths (source imports, flat fixed-output files, text
// files and .drv files), registers paths valid in one transaction, answers path-info, reference
// and closure queries, finishes builders' outputs (canonicalise, hash, scan references), keeps
// per-path locks and temp roots, verifies contents, and collects garbage.
// Content is always written under a private temporary name directly in the store directory
// (`.imgeval-tmp-<pid>_<start>-<n>`: same file system, no per-path directory to create and
// remove), made read-only, renamed into place under the path's lock, and only then registered; so a crash at any moment
// leaves unregistered leftovers (ignored, then cleaned) and never a registered incomplete path.
// It never knows images or builders, and never writes outside its root.

import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  futimesSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ImgError } from '../base/error.js';
import { digest, parseHash, printHash, toNixBase32, type HashAlgo } from '../base/hash.js';
import { narHashOfFile, writeNar, type FsReader } from '../derivation/nar.js';
import { parseDerivationFile } from '../derivation/derivation.js';
import {
  STORE_DIR,
  isDerivationPath,
  makeFixedOutputPath,
  makeTextPath,
  makeTextPathFromHash,
  parseStorePath,
  renderContentAddress,
  toStorePath,
} from '../derivation/store-path.js';
import { StoreDb } from './db.js';
import { nodeFsReader } from './fs-reader.js';
import { CANONICAL_MTIME, canonicaliseTree, copyingReader, deleteTree, filteredReader, treeBytes, type FsPath, type PathFilter } from './fs-tree.js';
import { FileLock, SELF_ID, dropOwnerFiles, isLocked, lockAsync, lockSync, ownerAlive, removeStaleLocks, sleepSync, tryLock } from './lock.js';
import { canonicalNarHash, infoFromRow, pathInfoJSON, recordOf, type NewPathInfo, type ValidPathInfo } from './path-info.js';
import { ReferenceScanner } from './references.js';
import { checkSchemaFile, ensureLayout, resolveStoreRoot, storeLayout, writeSchemaFile, type StoreLayout } from './store-root.js';

export type { ValidPathInfo, NewPathInfo } from './path-info.js';
export type { PathFilter, FilterType } from './fs-tree.js';

export interface OpenStoreOptions {
  /** The `--store DIR` flag; else IMGEVAL_STORE, else `$XDG_DATA_HOME/imgeval/store`. */
  root?: string;
  env?: NodeJS.ProcessEnv;
  /** Create the store when it does not exist (default true); false makes a missing store an error. */
  create?: boolean;
  /** Called when an operation has to wait for another process's lock (progress display). */
  onLockWait?: (what: string) => void;
}

export interface AddToStoreOptions {
  /** Store path name; default: the source's base name. */
  name?: string;
  /** `recursive` (NAR, the default) or `flat` (a regular file's bytes). */
  method?: 'recursive' | 'flat';
  /** Content hash algorithm (default sha256); recursive sha256 gives a `source` path. */
  algo?: HashAlgo;
  /** Drops entries (recursive only); see PathFilter. */
  filter?: PathFilter;
  /** References a source path declares (recursive sha256 only; never scanned). */
  references?: readonly string[];
}

export interface VerifyProblem {
  path: string;
  kind: 'missing' | 'hash' | 'size' | 'ca' | 'database';
  message: string;
}

export interface VerifyReport {
  checked: number;
  problems: VerifyProblem[];
}

export interface GcOptions {
  dryRun?: boolean;
  /** Delete only these paths (`nix-store --delete`): each must be dead. */
  only?: readonly string[];
}

export interface GcReport {
  /** Valid paths deleted (or that would be, with dryRun), sorted. */
  deleted: string[];
  /** Unregistered entries of the store directory removed (leftovers, failed builds). */
  deletedInvalid: string[];
  /** Bytes freed (file and symlink sizes, as Nix counts them). */
  bytesFreed: number;
  dryRun: boolean;
}

/** Locks held on several store paths; release them all at once. */
export interface PathLocks {
  release(): void;
}

const TMP_PREFIX = '.imgeval-tmp-';
const TRASH_PREFIX = '.imgeval-trash-';
const OWN_ENTRY = /^\.imgeval-(?:tmp|trash|lock)-(\d+)_(\d+)-/;

let tmpCounter = 0;
/** Store handles opened by this process (each has its own temp-roots file). */
let handleCounter = 0;

/** Handles whose temp-roots file the exit listener removes. */
const withTempRoots = new Set<LocalStore>();
let exitHookInstalled = false;

/** Nix's "getting status of '…': No such file or directory" for a missing source. */
function ioError(e: unknown, what: string): ImgError {
  const code = (e as { code?: string }).code;
  const reason = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : (e as Error).message;
  return new ImgError('E_IO', `${what}: ${reason}`);
}

export class LocalStore {
  readonly storeDir = STORE_DIR;
  readonly layout: StoreLayout;
  private readonly db: StoreDb;
  private readonly onLockWait: ((what: string) => void) | undefined;
  private tempRootsFile: string | undefined;
  /** Open (append) descriptor of tempRootsFile, kept for the handle's life as Nix does. */
  private tempRootsFd: number | undefined;
  private readonly tempRooted = new Set<string>();
  private closed = false;

  private constructor(layout: StoreLayout, db: StoreDb, opts: OpenStoreOptions) {
    this.layout = layout;
    this.db = db;
    this.onLockWait = opts.onLockWait;
  }

  /** Opens the store (creating its layout and database when new) and cleans dead leftovers. */
  static open(opts: OpenStoreOptions = {}): LocalStore {
    const root = resolveStoreRoot(opts.root, opts.env ?? process.env);
    const layout = storeLayout(root);
    if (opts.create === false && !existsSync(layout.dbFile)) {
      throw new ImgError('E_STORE', `no store at '${root}' (it has no '${layout.dbFile}')`);
    }
    try {
      const isNew = ensureLayout(layout);
      const db = StoreDb.open(layout.dbFile, { create: true });
      if (isNew) writeSchemaFile(layout);
      else checkSchemaFile(layout);
      const store = new LocalStore(layout, db, opts);
      store.removeDeadLeftovers();
      return store;
    } catch (e) {
      if (e instanceof ImgError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
        throw new ImgError('E_STORE', `cannot open the store at '${root}': ${(e as Error).message}`);
      }
      throw e;
    }
  }

  get root(): string {
    return this.layout.root;
  }

  get realStoreDir(): string {
    return this.layout.realStoreDir;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.removeTempRoots();
    withTempRoots.delete(this);
    this.db.close();
    dropOwnerFiles(this.layout.realStoreDir);
    dropOwnerFiles(this.layout.stateDir);
  }

  // ------------------------------------------------------------------------------------------
  // Paths

  /** The physical location of a store path (or of a file below one). */
  toPhysical(storePath: string): string {
    if (storePath !== STORE_DIR && !storePath.startsWith(STORE_DIR + '/')) {
      throw new ImgError('E_STORE', `path '${storePath}' is not in the Nix store`);
    }
    return this.layout.realStoreDir + storePath.slice(STORE_DIR.length);
  }

  /**
   * The store path a file system path lies in: accepts logical (`/nix/store/…`) and physical
   * (`<root>/nix/store/…`) spellings, and paths below a store path. Undefined when outside.
   */
  toStorePathOf(path: string): string | undefined {
    let logical: string;
    if (path.startsWith(this.layout.realStoreDir + '/')) logical = STORE_DIR + path.slice(this.layout.realStoreDir.length);
    else if (path.startsWith(STORE_DIR + '/')) logical = path;
    else return undefined;
    try {
      return toStorePath(logical).storePath;
    } catch {
      return undefined;
    }
  }

  private lockPathOf(storePath: string): string {
    return this.toPhysical(storePath) + '.lock';
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  isValidPath(storePath: string): boolean {
    return this.db.isValid(storePath);
  }

  queryPathInfo(storePath: string): ValidPathInfo | undefined {
    const row = this.db.queryPathRow(storePath);
    return row ? infoFromRow(row, this.db.queryReferences(storePath)) : undefined;
  }

  /**
   * The closure of `paths` under references with each path's narSize and references (sorted),
   * in two database queries: what a closure walk over queryPathInfo gives, without the NAR
   * hashes. A path that is not valid is an error.
   */
  queryClosureGraph(paths: Iterable<string>): Map<string, { narSize: number; references: readonly string[] }> {
    const roots = [...new Set(paths)];
    const g = this.db.queryClosureGraph(roots);
    for (const p of roots) if (!g.has(p)) throw new ImgError('E_STORE', `path '${p}' is not valid`);
    const out = new Map<string, { narSize: number; references: readonly string[] }>();
    for (const [p, r] of g) out.set(p, { narSize: r.narSize ?? 0, references: r.references });
    return out;
  }

  /** Like queryPathInfo, but a missing path is an error (Nix: "path '…' is not valid"). */
  requirePathInfo(storePath: string): ValidPathInfo {
    const info = this.queryPathInfo(storePath);
    if (!info) throw new ImgError('E_STORE', `path '${storePath}' is not valid`);
    return info;
  }

  queryAllValidPaths(): string[] {
    return this.db.queryValidPaths();
  }

  queryReferences(storePath: string): string[] {
    return this.db.queryReferences(storePath);
  }

  queryReferrers(storePath: string): string[] {
    return this.db.queryReferrers(storePath);
  }

  /** The outputs a registered `.drv` declares (DerivationOutputs): name → path. */
  queryDerivationOutputs(drvPath: string): Map<string, string> {
    return this.db.queryDerivationOutputs(drvPath);
  }

  /** The valid `.drv` paths that have `outputPath` as an output. */
  queryValidDerivers(outputPath: string): string[] {
    return this.db.queryValidDerivers(outputPath);
  }

  /**
   * The closure of `paths` under references (Nix's computeFSClosure), sorted. With `flip`, under
   * referrers instead; `includeDerivers` also follows each path's deriver when it is valid.
   */
  computeFSClosure(paths: Iterable<string>, opts: { flip?: boolean; includeDerivers?: boolean } = {}): string[] {
    if (!opts.flip && !opts.includeDerivers) {
      // Under references: one recursive query.
      const roots = [...new Set(paths)];
      const rows = this.db.queryClosureRows(roots);
      const found = new Set(rows.map((r) => r.path));
      for (const p of roots) if (!found.has(p)) throw new ImgError('E_STORE', `path '${p}' is not valid`);
      return [...found].sort();
    }
    const seen = new Set<string>();
    const stack: string[] = [];
    for (const p of paths) {
      if (!this.db.isValid(p)) throw new ImgError('E_STORE', `path '${p}' is not valid`);
      stack.push(p);
    }
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      for (const q of opts.flip ? this.db.queryReferrers(p) : this.db.queryReferences(p)) if (!seen.has(q)) stack.push(q);
      if (opts.includeDerivers) {
        const d = this.db.queryPathRow(p)?.deriver;
        if (d && !seen.has(d) && this.db.isValid(d)) stack.push(d);
      }
    }
    return [...seen].sort();
  }

  /** Valid paths ordered so that every path comes after the paths it refers to. */
  topoSortPaths(paths: Iterable<string>): string[] {
    const set = new Set(paths);
    const out: string[] = [];
    const state = new Map<string, 1 | 2>();
    const visit = (p: string, from: string | undefined): void => {
      const s = state.get(p);
      if (s === 2) return;
      if (s === 1) throw new ImgError('E_STORE', `cycle detected in the references of '${from}' from '${p}'`);
      state.set(p, 1);
      for (const r of this.db.queryReferences(p)) if (r !== p && set.has(r)) visit(r, p);
      state.set(p, 2);
      out.push(p);
    };
    for (const p of [...set].sort()) visit(p, undefined);
    return out;
  }

  /** The JSON `nix path-info --json` prints for these paths (with `closure`, their closure). */
  pathInfoJSON(paths: readonly string[], opts: { closure?: boolean } = {}): Record<string, unknown>[] {
    const list = opts.closure ? this.computeFSClosure(paths) : paths;
    return list.map((p) => pathInfoJSON(this.requirePathInfo(p)));
  }

  // ------------------------------------------------------------------------------------------
  // Registration

  /**
   * Registers paths valid in ONE transaction (Nix's registerValidPaths). Each path's content must
   * be complete at its physical location; references must be valid or in the same batch; a
   * `.drv` gets its DerivationOutputs rows (from `derivationOutputs`, else parsed from the file).
   * A path that is already valid is updated (hash, size, ca, …), keeping its id and time.
   */
  registerValidPaths(infos: readonly NewPathInfo[]): void {
    if (infos.length === 0) return;
    const now = Math.floor(Date.now() / 1000);
    const batch = new Map<string, NewPathInfo>();
    const outputs = new Map<string, Map<string, string>>();
    for (const info of infos) {
      // (A reference must be valid or in the batch, so a malformed one fails below.)
      parseStorePath(info.path);
      canonicalNarHash(info.narHash);
      try {
        lstatSync(this.toPhysical(info.path));
      } catch {
        throw new ImgError('E_STORE', `cannot register '${info.path}': it does not exist in the store`);
      }
      batch.set(info.path, info);
      if (isDerivationPath(info.path)) outputs.set(info.path, this.derivationOutputsOf(info));
    }
    // Nix refuses reference cycles (other than self-references) among the registered paths.
    const state = new Map<string, 1 | 2>();
    const visit = (p: string): void => {
      state.set(p, 1);
      for (const r of batch.get(p)!.references) {
        if (r === p || !batch.has(r)) continue;
        const s = state.get(r);
        if (s === 1) throw new ImgError('E_STORE', `cycle detected in the references of '${p}' from '${r}'`);
        if (s === undefined) visit(r);
      }
      state.set(p, 2);
    };
    for (const p of batch.keys()) if (!state.has(p)) visit(p);

    this.db.transaction(() => {
      const ids = new Map<string, number>();
      for (const info of batch.values()) ids.set(info.path, this.db.upsertPath(recordOf(info, now)));
      for (const info of batch.values()) {
        // One statement per path (the batch is in ValidPaths already); a count short of the
        // references means one is not valid: name the first.
        const refs = [...new Set(info.references)];
        if (this.db.setReferencesByPath(ids.get(info.path)!, refs) !== refs.length) {
          for (const x of refs) parseStorePath(x);
          const r = refs.find((x) => !ids.has(x) && this.db.queryPathId(x) === undefined) ?? refs[0];
          throw new ImgError('E_STORE', `cannot register '${info.path}': its reference '${r}' is not valid`);
        }
      }
      for (const [drv, outs] of outputs) for (const [name, path] of outs) this.db.addDerivationOutput(ids.get(drv)!, name, path);
    });
  }

  private derivationOutputsOf(info: NewPathInfo): Map<string, string> {
    const given = info.derivationOutputs;
    if (given) return new Map(given instanceof Map ? given : Object.entries(given));
    const drv = parseDerivationFile(info.path, readFileSync(this.toPhysical(info.path)));
    const m = new Map<string, string>();
    for (const [name, o] of drv.outputs) if (o.path !== '') m.set(name, o.path);
    return m;
  }

  // ------------------------------------------------------------------------------------------
  // Adding content

  /**
   * A fresh private name directly in the store directory (same file system, so renames are
   * atomic; a dead process's leftovers are removed by removeDeadLeftovers). Nothing is created.
   */
  private makeTempName(): string {
    return join(this.layout.realStoreDir, `${TMP_PREFIX}${SELF_ID.replace(' ', '_')}-${tmpCounter++}`);
  }

  /**
   * Moves finished content (canonical, read-only) from `tmpContent` to `info.path` and registers
   * it, under the path's lock; a path that became valid meanwhile is left alone. `tmpContent` is
   * gone afterwards (renamed or removed).
   */
  private moveIntoStore(tmpContent: string, info: NewPathInfo): void {
    let moved = false;
    try {
      this.addTempRoot(info.path);
      if (this.db.isValid(info.path)) return;
      const lock = lockSync(this.lockPathOf(info.path), { onWait: () => this.onLockWait?.(`waiting for the lock on '${info.path}'`) });
      try {
        if (this.db.isValid(info.path)) return;
        const dest = this.toPhysical(info.path);
        try {
          // Usually nothing is there; a leftover file is replaced atomically by the rename.
          renameSync(tmpContent, dest);
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
          // An unregistered leftover directory (a crash after the rename, a failed build): replace it.
          deleteTree(dest);
          renameSync(tmpContent, dest);
        }
        moved = true;
        this.registerValidPaths([info]);
      } finally {
        lock.release();
      }
    } finally {
      if (!moved) deleteTree(tmpContent);
    }
  }

  /**
   * Adds a file system path to the store (Nix's addToStore): recursive (NAR; sha256 gives the
   * `source` path of `nix-store --add` / path imports) or flat (a regular file's bytes, the path
   * of `nix-store --add-fixed`). Reads the source once: the bytes are archived, hashed and
   * copied into a temporary place together. Returns the store path.
   */
  addToStore(srcPath: string, opts: AddToStoreOptions = {}): string {
    const tmpContent = this.makeTempName();
    let info: NewPathInfo;
    try {
      info = ingest(srcPath, opts, tmpContent);
    } catch (e) {
      deleteTree(tmpContent);
      throw e;
    }
    this.moveIntoStore(tmpContent, info);
    return info.path;
  }

  /**
   * The store path (and NAR hash, size, ca) addToStore would give, without writing anything
   * (Nix's computeStorePathForPath, used when evaluating without writing to the store).
   */
  computeStorePathForPath(srcPath: string, opts: AddToStoreOptions = {}): NewPathInfo {
    return ingest(srcPath, opts, undefined);
  }

  /**
   * Adds a text file (`builtins.toFile`, `.drv` files; Nix's addTextToStore): a text path over
   * the sha256 of `text` and its `references`, `ca` = `text:sha256:…`. `text` is a byte string
   * (latin1) or bytes. A `.drv` also gets its DerivationOutputs rows. Returns the store path.
   */
  addTextToStore(
    name: string,
    text: string | Uint8Array,
    references: readonly string[] = [],
    opts: { derivationOutputs?: ReadonlyMap<string, string> | Readonly<Record<string, string>> } = {},
  ): string {
    const data = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    const refs = [...new Set(references)].sort();
    const path = makeTextPath(name, data, refs);
    this.addTempRoot(path);
    if (this.db.isValid(path)) return path;
    // One small file: written under a temporary name in the store dir, no fsync (as Nix).
    const tmpContent = this.makeTempName();
    try {
      const fd = openSync(tmpContent, 'wx', 0o444);
      try {
        let off = 0;
        while (off < data.length) off += writeSync(fd, data, off, data.length - off);
        futimesSync(fd, CANONICAL_MTIME, CANONICAL_MTIME);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      deleteTree(tmpContent);
      throw e;
    }
    const { narHash, narSize } = narHashOfFile(data);
    this.moveIntoStore(tmpContent, {
      path,
      narHash: printHash('sha256', narHash, 'base32', true),
      narSize,
      references: refs,
      ca: `text:sha256:${toNixBase32(digest('sha256', data))}`,
      ...(opts.derivationOutputs ? { derivationOutputs: opts.derivationOutputs } : {}),
    });
    return path;
  }

  // ------------------------------------------------------------------------------------------
  // Builders' outputs

  /** Takes the locks of several store paths (sorted, so two processes never deadlock), waiting. */
  lockPaths(paths: Iterable<string>): PathLocks {
    const held: FileLock[] = [];
    try {
      for (const p of [...new Set(paths)].sort()) {
        held.push(lockSync(this.lockPathOf(p), { onWait: () => this.onLockWait?.(`waiting for the lock on '${p}'`) }));
      }
    } catch (e) {
      for (const l of held) l.release();
      throw e;
    }
    return { release: () => held.forEach((l) => l.release()) };
  }

  /** lockPaths without blocking the event loop while waiting (for the build scheduler). */
  async lockPathsAsync(paths: Iterable<string>): Promise<PathLocks> {
    const held: FileLock[] = [];
    try {
      for (const p of [...new Set(paths)].sort()) {
        held.push(await lockAsync(this.lockPathOf(p), { onWait: () => this.onLockWait?.(`waiting for the lock on '${p}'`) }));
      }
    } catch (e) {
      for (const l of held) l.release();
      throw e;
    }
    return { release: () => held.forEach((l) => l.release()) };
  }

  /** The NAR hash (`sha256:<b32>`) and size of a path's current content. */
  hashPath(storePath: string): { narHash: string; narSize: number } {
    const h = createHash('sha256');
    let narSize = 0;
    writeNar(nodeFsReader, this.toPhysical(storePath), (c) => {
      h.update(c);
      narSize += c.length;
    });
    return { narHash: printHash('sha256', h.digest(), 'base32', true), narSize };
  }

  /** The candidates (store paths) whose hash part occurs in the path's NAR, sorted. */
  scanReferences(storePath: string, candidates: Iterable<string>): string[] {
    const s = new ReferenceScanner(candidates);
    writeNar(nodeFsReader, this.toPhysical(storePath), (c) => s.update(c));
    return s.result();
  }

  /**
   * Finishes an output a builder wrote at its physical location (hold its lock): canonicalises
   * its metadata, then in one pass hashes its NAR and scans it for the hash parts of
   * `candidates` (the inputs' closure) and of itself. Returns the info to register with
   * registerValidPaths (ultimate: built here).
   */
  makeOutputInfo(storePath: string, opts: { candidates: Iterable<string>; deriver?: string; ca?: string }): NewPathInfo {
    const physical = this.toPhysical(storePath);
    try {
      lstatSync(physical);
    } catch {
      throw new ImgError('E_BUILD', `builder failed to produce output path '${storePath}'`);
    }
    canonicaliseTree(physical);
    const scanner = new ReferenceScanner([...opts.candidates, storePath]);
    const h = createHash('sha256');
    let narSize = 0;
    writeNar(nodeFsReader, physical, (c) => {
      h.update(c);
      scanner.update(c);
      narSize += c.length;
    });
    return {
      path: storePath,
      narHash: printHash('sha256', h.digest(), 'base32', true),
      narSize,
      references: scanner.result(),
      ...(opts.deriver ? { deriver: opts.deriver } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
      ultimate: true,
    };
  }

  /** Removes whatever is at an (unregistered) path's physical location before a build. */
  clearInvalidPath(storePath: string): void {
    if (this.db.isValid(storePath)) throw new Error(`internal error: refusing to clear the valid path '${storePath}'`);
    deleteTree(this.toPhysical(storePath));
  }

  // ------------------------------------------------------------------------------------------
  // Roots

  /**
   * Protects a path from a concurrent garbage collection for as long as this process runs
   * (`temproots/<pid>`, NUL-terminated entries as Nix writes them). Waits while a collection
   * that may not have seen the root is running.
   */
  addTempRoot(storePath: string): void {
    this.addTempRoots([storePath]);
  }

  /** addTempRoot for many paths: one write and one look at the collector's lock. */
  addTempRoots(storePaths: Iterable<string>): void {
    let text = '';
    const added: string[] = [];
    for (const p of storePaths) {
      if (this.tempRooted.has(p)) continue;
      this.tempRooted.add(p);
      added.push(p);
      text += p + '\0';
    }
    if (added.length === 0) return;
    try {
      this.writeTempRoots(text);
    } catch (e) {
      for (const p of added) this.tempRooted.delete(p);
      throw e;
    }
  }

  private writeTempRoots(text: string): void {
    if (!this.tempRootsFile) {
      // `<pid>` as Nix names it; a second handle in the same process gets `<pid>-<n>`.
      const n = handleCounter++;
      this.tempRootsFile = join(this.layout.tempRootsDir, n === 0 ? String(process.pid) : `${process.pid}-${n}`);
      this.tempRootsFd = openSync(this.tempRootsFile, 'a', 0o644);
      withTempRoots.add(this);
      if (!exitHookInstalled) {
        // One listener for all handles: a process may open many stores without closing them.
        process.on('exit', () => {
          for (const h of withTempRoots) h.removeTempRoots();
        });
        exitHookInstalled = true;
      }
    }
    const entry = Buffer.from(text, 'latin1');
    let off = 0;
    while (off < entry.length) off += writeSync(this.tempRootsFd!, entry, off, entry.length - off);
    // A collector takes its lock before reading the temp roots: once no collector holds it, any
    // later one will see this root. Wait for one that might have read them before we wrote.
    const gcLock = this.gcLockPath();
    let delay = 5;
    while (isLocked(gcLock) && !this.collecting) {
      sleepSync(delay);
      delay = Math.min(delay * 2, 100);
    }
  }

  /** Removes this handle's temp-roots file (at close, and at process exit). */
  removeTempRoots(): void {
    if (this.tempRootsFile) {
      if (this.tempRootsFd !== undefined) {
        try {
          closeSync(this.tempRootsFd);
        } catch {
          /* closed */
        }
        this.tempRootsFd = undefined;
      }
      try {
        unlinkSync(this.tempRootsFile);
      } catch {
        /* gone */
      }
      this.tempRootsFile = undefined;
      this.tempRooted.clear();
    }
  }

  /**
   * Makes `linkPath` a symlink to the store path (its physical location, so it can be used
   * directly) and registers it as an indirect GC root: `gcroots/auto/<b32 sha1(linkPath)>` →
   * linkPath, as Nix does for `result` links. Returns the absolute link path.
   */
  addPermRoot(storePath: string, linkPath: string): string {
    if (!this.db.isValid(storePath)) throw new ImgError('E_STORE', `path '${storePath}' is not valid`);
    const link = resolve(linkPath);
    try {
      if (!lstatSync(link).isSymbolicLink()) {
        throw new ImgError('E_STORE', `cannot create the link '${link}': a file that is not a symlink is in the way`);
      }
    } catch (e) {
      if (e instanceof ImgError) throw e;
    }
    const tmp = `${link}.imgeval-tmp-${process.pid}`;
    try {
      unlinkSync(tmp);
    } catch {
      /* none */
    }
    symlinkSync(this.toPhysical(storePath), tmp);
    renameSync(tmp, link);
    const auto = join(this.layout.gcRootsDir, 'auto');
    mkdirSync(auto, { recursive: true });
    const rootLink = join(auto, toNixBase32(createHash('sha1').update(link).digest()));
    const tmpRoot = `${rootLink}.tmp-${process.pid}`;
    try {
      unlinkSync(tmpRoot);
    } catch {
      /* none */
    }
    symlinkSync(link, tmpRoot);
    renameSync(tmpRoot, rootLink);
    return link;
  }

  /**
   * The GC roots (Nix's findRoots over `gcroots/` and `profiles/`): symlinks into the store
   * (logical or physical spelling), indirect roots (a symlink to a symlink into the store), and
   * regular files named like a store path. Stale `gcroots/auto` links are removed. Returns
   * root file → valid store path.
   */
  findRoots(): Map<string, string> {
    const roots = new Map<string, string>();
    const autoDir = join(this.layout.gcRootsDir, 'auto');
    const found = (link: string, target: string): void => {
      const p = this.toStorePathOf(target);
      if (p && this.db.isValid(p)) roots.set(link, p);
    };
    const walk = (path: string, depth: number): void => {
      let st;
      try {
        st = lstatSync(path);
      } catch {
        return;
      }
      if (st.isDirectory()) {
        if (depth > 32) return;
        for (const n of readdirSync(path).sort()) walk(join(path, n), depth + 1);
      } else if (st.isSymbolicLink()) {
        const target = readlinkSync(path);
        if (this.toStorePathOf(target)) return found(path, target);
        const abs = resolve(dirname(path), target);
        let st2;
        try {
          st2 = lstatSync(abs);
        } catch {
          if (dirname(path) === autoDir) {
            try {
              unlinkSync(path);
            } catch {
              /* gone */
            }
          }
          return;
        }
        if (!st2.isSymbolicLink()) return;
        const target2 = readlinkSync(abs);
        found(abs, resolve(dirname(abs), target2));
      } else if (st.isFile()) {
        found(path, join(STORE_DIR, basename(path)));
      }
    };
    walk(this.layout.gcRootsDir, 0);
    walk(this.layout.profilesDir, 0);
    return roots;
  }

  /** Store paths in the temp roots of live processes (this one included). */
  private readTempRoots(): Set<string> {
    const out = new Set<string>();
    let names: string[] = [];
    try {
      names = readdirSync(this.layout.tempRootsDir);
    } catch {
      return out;
    }
    for (const n of names) {
      const file = join(this.layout.tempRootsDir, n);
      const m = /^(\d+)(?:-\d+)?$/.exec(n);
      if (!m) continue;
      if (Number(m[1]) !== process.pid && !ownerAlive(`${m[1]} 0`)) {
        try {
          unlinkSync(file);
        } catch {
          /* gone */
        }
        continue;
      }
      let text = '';
      try {
        text = readFileSync(file, 'latin1');
      } catch {
        continue;
      }
      for (const p of text.split('\0')) if (p) out.add(p);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Garbage collection

  private collecting = false;

  private gcLockPath(): string {
    return join(this.layout.stateDir, 'imgeval-gc.lock');
  }

  /**
   * Deletes every path not reachable from the roots (the GC roots, live processes' temp roots,
   * and — as Nix's keep-derivations — the derivers of live paths), or only `opts.only`. The
   * database rows go first, in one transaction; then the files. Paths another process holds
   * locked are kept. Unregistered entries of the store dir are removed too.
   */
  collectGarbage(opts: GcOptions = {}): GcReport {
    const dryRun = opts.dryRun === true;
    const gcLock = lockSync(this.gcLockPath(), { onWait: () => this.onLockWait?.('waiting for another garbage collection') });
    this.collecting = true;
    const pathLocks: FileLock[] = [];
    try {
      const start = new Set<string>();
      for (const p of this.findRoots().values()) start.add(p);
      for (const p of this.readTempRoots()) if (this.db.isValid(p)) start.add(p);
      const live = new Set(this.computeFSClosure(start, { includeDerivers: true }));
      // keep-derivations: a live path's deriver and its closure stay (computeFSClosure followed them).
      let dead: string[];
      if (opts.only) {
        for (const p of opts.only) {
          if (!this.db.isValid(p)) throw new ImgError('E_STORE', `path '${p}' is not valid`);
          if (live.has(p)) throw new ImgError('E_STORE', `cannot delete path '${p}' since it is still alive`);
        }
        const only = new Set(opts.only);
        for (const p of only) {
          const users = this.db.queryReferrers(p).filter((r) => r !== p && !only.has(r));
          if (users.length) throw new ImgError('E_STORE', `cannot delete path '${p}' since it is still referenced by '${users[0]}'`);
        }
        dead = [...only].sort();
      } else {
        dead = this.db.queryValidPaths().filter((p) => !live.has(p));
      }
      // A dead path someone holds locked (being built over, being registered) is kept, with its closure.
      const locked: string[] = [];
      const lockedHere = new Map<string, FileLock>();
      for (const p of dead) {
        const lp = this.lockPathOf(p);
        if (tryLock(lp)) lockedHere.set(p, new FileLock(lp));
        else locked.push(p);
      }
      if (locked.length) {
        if (opts.only) throw new ImgError('E_STORE', `cannot delete path '${locked[0]}': it is locked by another process`);
        const keep = new Set(this.computeFSClosure(locked));
        dead = dead.filter((p) => !keep.has(p));
        for (const [p, l] of lockedHere) if (keep.has(p)) l.release();
      }
      for (const p of dead) pathLocks.push(lockedHere.get(p)!);

      let bytesFreed = 0;
      const deletedInvalid: string[] = [];
      if (dryRun) {
        for (const p of dead) bytesFreed += safeTreeBytes(this.toPhysical(p));
      } else {
        this.db.transaction(() => this.db.deletePaths(dead));
        for (const p of dead) bytesFreed += this.removePhysical(this.toPhysical(p));
      }
      if (!opts.only) {
        // Unregistered entries: leftovers of crashes and failed builds (not locked, not temp roots).
        const tempRoots = this.readTempRoots();
        const deadSet = new Set(dead);
        for (const n of readdirSync(this.layout.realStoreDir).sort()) {
          if (n.startsWith('.') || n.endsWith('.lock') || n.includes('.lock.')) continue;
          const p = `${STORE_DIR}/${n}`;
          if (this.db.isValid(p) || tempRoots.has(p) || isLocked(this.lockPathOf(p))) continue;
          if (deadSet.has(p)) continue;
          deletedInvalid.push(p);
          if (dryRun) bytesFreed += safeTreeBytes(this.toPhysical(p));
          else bytesFreed += this.removePhysical(this.toPhysical(p));
        }
        if (!dryRun) removeStaleLocks(this.layout.realStoreDir);
      }
      return { deleted: dead, deletedInvalid, bytesFreed, dryRun };
    } finally {
      for (const l of pathLocks) l.release();
      this.collecting = false;
      gcLock.release();
    }
  }

  /** Deletes one dead path (Nix's `nix-store --delete`). Returns the bytes freed. */
  deletePath(storePath: string): number {
    return this.collectGarbage({ only: [storePath] }).bytesFreed;
  }

  /** Renames a physical entry out of sight (atomically), then deletes it. Returns bytes freed. */
  private removePhysical(physical: string): number {
    const trash = join(this.layout.realStoreDir, `${TRASH_PREFIX}${SELF_ID.replace(' ', '_')}-${tmpCounter++}`);
    try {
      renameSync(physical, trash);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return 0;
      throw e;
    }
    const n = safeTreeBytes(trash);
    deleteTree(trash);
    return n;
  }

  /**
   * Removes the temp and trash entries and lock owner files of dead imgeval processes, in the
   * store dir and (owner files of the GC lock) the state dir.
   */
  private removeDeadLeftovers(): void {
    for (const dir of [this.layout.realStoreDir, this.layout.stateDir]) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        const m = OWN_ENTRY.exec(n);
        if (m && !ownerAlive(`${m[1]} ${m[2]}`)) deleteTree(join(dir, n));
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Verification

  /**
   * Checks every valid path (Nix's `nix-store --verify --check-contents`): it exists, its NAR
   * hash and size match the database, its `ca` (if any) recomputes to its path; plus SQLite's
   * integrity and foreign-key checks. Reports each problem; changes nothing.
   */
  verify(opts: { checkContents?: boolean; onPath?: (path: string) => void } = {}): VerifyReport {
    const problems: VerifyProblem[] = [];
    for (const msg of this.db.integrityCheck()) problems.push({ path: this.layout.dbFile, kind: 'database', message: msg });
    const rows = this.db.queryAllRows();
    for (const row of rows) {
      opts.onPath?.(row.path);
      const physical = this.toPhysical(row.path);
      try {
        lstatSync(physical);
      } catch {
        problems.push({ path: row.path, kind: 'missing', message: `path '${row.path}' disappeared` });
        continue;
      }
      const references = this.db.queryReferences(row.path);
      const info = infoFromRow(row, references);
      if (opts.checkContents !== false) {
        let actual: { narHash: string; narSize: number };
        try {
          actual = this.hashPath(row.path);
        } catch (e) {
          problems.push({ path: row.path, kind: 'hash', message: `path '${row.path}' cannot be read: ${(e as Error).message}` });
          continue;
        }
        if (actual.narHash !== info.narHash) {
          problems.push({
            path: row.path,
            kind: 'hash',
            message: `path '${row.path}' was modified! expected hash '${info.narHash}', got '${actual.narHash}'`,
          });
        } else if (row.narSize !== null && row.narSize !== 0 && actual.narSize !== row.narSize) {
          problems.push({
            path: row.path,
            kind: 'size',
            message: `path '${row.path}' has the wrong NAR size: expected ${row.narSize}, got ${actual.narSize}`,
          });
        }
      }
      if (info.ca) {
        const expected = caPath(info);
        if (expected !== info.path) {
          problems.push({ path: row.path, kind: 'ca', message: `path '${row.path}' claims to be content-addressed but isn't (its ca '${info.ca}' gives '${expected}')` });
        }
      }
    }
    return { checked: rows.length, problems };
  }
}

/**
 * Reads a source once: its NAR is hashed (sha256, plus the content hash of `opts.algo`) and, with
 * `copyTo`, the tree is recreated there with canonical metadata. Returns the info to register.
 */
function ingest(srcPath: string, opts: AddToStoreOptions, copyTo: string | undefined): NewPathInfo {
  const method = opts.method ?? 'recursive';
  const algo = opts.algo ?? 'sha256';
  const src = resolve(srcPath);
  let st;
  try {
    st = lstatSync(src);
  } catch (e) {
    throw ioError(e, `getting status of '${src}'`);
  }
  const name = opts.name ?? basename(src);
  const references = [...new Set(opts.references ?? [])].sort();
  if (references.length && !(method === 'recursive' && algo === 'sha256')) {
    throw new ImgError('E_STORE', `only a recursive sha256 source path can have references (adding '${src}')`);
  }
  if (method === 'flat' && !st.isFile()) throw new ImgError('E_STORE', `cannot add '${src}' flat: it is not a regular file`);
  if (opts.filter && method !== 'recursive') throw new ImgError('E_STORE', 'a filter applies only to recursive adds');
  // Fail on a bad name before reading anything.
  makeTextPathFromHash(name, Buffer.alloc(32));
  try {
    const nar = createHash('sha256');
    let narSize = 0;
    let reader: FsReader<FsPath>;
    let content: ReturnType<typeof createHash> | undefined;
    let narOther: ReturnType<typeof createHash> | undefined;
    if (method === 'recursive') {
      reader = opts.filter ? filteredReader(nodeFsReader, opts.filter) : nodeFsReader;
      if (algo !== 'sha256') narOther = createHash(algo);
    } else {
      // Flat: the file's bytes, stored as a non-executable regular file (as builtins.path does).
      const c = createHash(algo);
      content = c;
      reader = {
        ...nodeFsReader,
        lstat: (p) => ({ ...nodeFsReader.lstat(p), executable: false }),
        readFile: (p, onChunk) =>
          nodeFsReader.readFile(p, (chunk) => {
            c.update(chunk);
            onChunk(chunk);
          }),
      };
    }
    const copier = copyTo !== undefined ? copyingReader(reader, src, copyTo) : undefined;
    writeNar(copier ?? reader, src, (c) => {
      nar.update(c);
      narOther?.update(c);
      narSize += c.length;
    });
    copier?.finish();
    const nh = nar.digest();
    const contentHash = content ? content.digest() : narOther ? narOther.digest() : nh;
    return {
      path: makeFixedOutputPath(method, algo, contentHash, name, references),
      narHash: printHash('sha256', nh, 'base32', true),
      narSize,
      references,
      ca: renderContentAddress({ method, algo, hash: contentHash }),
    };
  } catch (e) {
    if (e instanceof ImgError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ELOOP' || code === 'ENOTDIR') throw ioError(e, `reading '${src}'`);
    throw e;
  }
}

function safeTreeBytes(p: string): number {
  try {
    return treeBytes(p);
  } catch {
    return 0;
  }
}

/** The path a `ca` assertion and references recompute to (Nix's isContentAddressed). */
function caPath(info: ValidPathInfo): string | undefined {
  const { name } = parseStorePath(info.path);
  const refs = info.references.filter((r) => r !== info.path);
  const self = info.references.includes(info.path);
  const text = /^text:sha256:([0-9a-z]+)$/.exec(info.ca!);
  try {
    if (text) {
      if (self) return undefined;
      return makeTextPathFromHash(name, canonicalHashBytes('sha256', text[1]!), refs);
    }
    const fixed = /^fixed:(r:)?(md5|sha1|sha256|sha512):([0-9a-z]+)$/.exec(info.ca!);
    if (!fixed) return undefined;
    const method = fixed[1] ? 'recursive' : 'flat';
    const algo = fixed[2] as HashAlgo;
    return makeFixedOutputPath(method, algo, canonicalHashBytes(algo, fixed[3]!), name, refs, self);
  } catch {
    return undefined;
  }
}

function canonicalHashBytes(algo: HashAlgo, text: string): Buffer {
  return parseHash(text, algo).bytes;
}
