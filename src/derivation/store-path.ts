// derivation/store-path: store paths as Nix 2.8 computes and checks them — parsing and name
// validation (with Nix's messages), makeStorePath and its uses (text paths of builtins.toFile and
// .drv files, fixed-output and source paths, derivation output paths), the `ca` field text, and
// builtins.placeholder. Pure: it never looks at a store; all strings are byte strings (latin1).

import { ImgError } from '../base/error.js';
import { compressHash, sha256, toHex, toNixBase32, type HashAlgo } from '../base/hash.js';

/** The logical store directory: what every hash and image sees. */
export const STORE_DIR = '/nix/store';
/** Length of the base-32 hash part of a store path (20 bytes). */
export const HASH_PART_LEN = 32;
export const DRV_EXTENSION = '.drv';

export type FileIngestionMethod = 'flat' | 'recursive';

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function storePathError(msg: string): ImgError {
  return new ImgError('E_STORE_PATH', msg);
}

function isNameChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    c === 0x2b || // +
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x3f || // ?
    c === 0x3d // =
  );
}

/**
 * Nix's checkName: a store path name is 1–211 characters from `[A-Za-z0-9+._?=-]` (2.8 still
 * allows a leading '.'). `baseName` (`<hash>-<name>`) is what the messages quote.
 */
export function checkName(baseName: string, name: string): void {
  if (name.length === 0) throw storePathError(`store path '${baseName}' has an empty name`);
  if (name.length > 211) throw storePathError(`store path '${baseName}' has a name longer than 211 characters`);
  for (let i = 0; i < name.length; i++) {
    if (!isNameChar(name.charCodeAt(i))) {
      throw storePathError(`store path '${baseName}' contains illegal character '${name[i]}'`);
    }
  }
}

export interface StorePathParts {
  /** `<hash>-<name>` */
  baseName: string;
  hashPart: string;
  name: string;
}

/** Nix's StorePath(baseName): 32 base-32 characters, a separator, a valid name. */
export function parseBaseName(baseName: string): StorePathParts {
  if (baseName.length < HASH_PART_LEN + 1) throw storePathError(`'${baseName}' is too short to be a valid store path`);
  for (let i = 0; i < HASH_PART_LEN; i++) {
    const c = baseName[i]!;
    if (c === 'e' || c === 'o' || c === 'u' || c === 't' || !/[0-9a-z]/.test(c)) {
      throw storePathError(`store path '${baseName}' contains illegal base-32 character '${c}'`);
    }
  }
  const name = baseName.slice(HASH_PART_LEN + 1);
  checkName(baseName, name);
  return { baseName, hashPart: baseName.slice(0, HASH_PART_LEN), name };
}

/** Nix's canonPath without symlink resolution: absolute, no `.`/`..`/empty segments, no trailing '/'. */
export function canonPath(path: string): string {
  if (!path.startsWith('/')) throw new ImgError('E_STORE_PATH', `not an absolute path: '${path}'`);
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

/** Nix's Store::parseStorePath: the path must be directly inside `storeDir`. */
export function parseStorePath(path: string, storeDir = STORE_DIR): StorePathParts {
  const p = canonPath(path);
  const slash = p.lastIndexOf('/');
  const dir = slash === 0 ? '/' : p.slice(0, slash);
  if (dir !== storeDir) throw storePathError(`path '${p}' is not in the Nix store`);
  return parseBaseName(p.slice(slash + 1));
}

/** True when `path` parses as a store path (Nix's isStorePath). */
export function isStorePath(path: string, storeDir = STORE_DIR): boolean {
  try {
    parseStorePath(path, storeDir);
    return true;
  } catch (e) {
    if (e instanceof ImgError) return false;
    throw e;
  }
}

/**
 * Nix's toStorePath / followLinksToStorePath without following links: the store path that
 * `path` is in or below (`/nix/store/abc-x/bin/sh` → `/nix/store/abc-x`), plus the rest.
 */
export function toStorePath(path: string, storeDir = STORE_DIR): { storePath: string; rest: string } {
  if (!path.startsWith(storeDir + '/')) throw storePathError(`path '${path}' is not in the Nix store`);
  const slash = path.indexOf('/', storeDir.length + 1);
  const storePath = slash < 0 ? path : path.slice(0, slash);
  parseStorePath(storePath, storeDir);
  return { storePath, rest: slash < 0 ? '' : path.slice(slash) };
}

/** The 32-character hash part of a store path. */
export function storePathHashPart(path: string, storeDir = STORE_DIR): string {
  return parseStorePath(path, storeDir).hashPart;
}

/** The name of a store path (after `<hash>-`). */
export function storePathName(path: string, storeDir = STORE_DIR): string {
  return parseStorePath(path, storeDir).name;
}

/** True for a `.drv` store path name or path (Nix's isDerivation). */
export function isDerivationPath(path: string): boolean {
  return path.endsWith(DRV_EXTENSION);
}

/**
 * Nix's makeStorePath: `<storeDir>/<b32(compress20(sha256(fingerprint)))>-<name>` where
 * fingerprint = `<type>:sha256:<hex of innerHash>:<storeDir>:<name>`. Checks the name.
 */
export function makeStorePath(type: string, innerHash: Uint8Array, name: string, storeDir = STORE_DIR): string {
  const fingerprint = `${type}:sha256:${toHex(innerHash)}:${storeDir}:${name}`;
  const h = compressHash(sha256(bytes(fingerprint)), 20);
  const baseName = `${toNixBase32(h)}-${name}`;
  checkName(baseName, name);
  return `${storeDir}/${baseName}`;
}

/** Nix's makeType: `type` then `:<path>` for each reference (sorted), then `:self`. */
export function makeType(type: string, references: Iterable<string> = [], hasSelfReference = false): string {
  let t = type;
  for (const r of sortedUnique(references)) t += `:${r}`;
  if (hasSelfReference) t += ':self';
  return t;
}

/** Sorted (by bytes), de-duplicated copy of a list of store paths (Nix's StorePathSet). */
export function sortedUnique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort(compareStrings);
}

/** Byte-wise string comparison (JS strings here hold bytes, so code-unit order is byte order). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A text path from the sha256 of its contents (Nix's makeTextPath). */
export function makeTextPathFromHash(name: string, contentsSha256: Uint8Array, references: Iterable<string> = [], storeDir = STORE_DIR): string {
  return makeStorePath(makeType('text', references), contentsSha256, name, storeDir);
}

/**
 * The store path of a text file (`builtins.toFile name contents`, `.drv` files; Nix's
 * computeStorePathForText): references are other store paths the text mentions (never outputs).
 */
export function makeTextPath(name: string, contents: string | Uint8Array, references: Iterable<string> = [], storeDir = STORE_DIR): string {
  const data = typeof contents === 'string' ? bytes(contents) : contents;
  return makeTextPathFromHash(name, sha256(data), references, storeDir);
}

/**
 * `builtins.toFile name contents` (Nix 2.8 prim_toFile): the contents' context may hold only
 * plain store paths, which become the references; a derivation output (`!out!…`) or a drvPath
 * (`=…`) is refused with Nix's message. Returns the text path and its sorted references.
 */
export function toFilePath(
  name: string,
  contents: string | Uint8Array,
  context: Iterable<string>,
  storeDir = STORE_DIR,
): { path: string; references: string[] } {
  const refs: string[] = [];
  for (const c of sortedUnique(context)) {
    if (!c.startsWith('/')) {
      throw new ImgError(
        'E_EVAL',
        `in 'toFile': the file named '${name}' must not contain a reference to a derivation but contains (${c})`,
      );
    }
    parseStorePath(c, storeDir);
    refs.push(c);
  }
  return { path: makeTextPath(name, contents, refs, storeDir), references: refs };
}

/**
 * Nix's makeFixedOutputPath: recursive sha256 → type `source` (with references / self), anything
 * else → `output:out` over sha256(`fixed:out:<r:?><algo>:<hex>:`) (no references allowed).
 */
export function makeFixedOutputPath(
  method: FileIngestionMethod,
  algo: HashAlgo,
  hash: Uint8Array,
  name: string,
  references: Iterable<string> = [],
  hasSelfReference = false,
  storeDir = STORE_DIR,
): string {
  if (algo === 'sha256' && method === 'recursive') {
    return makeStorePath(makeType('source', references, hasSelfReference), hash, name, storeDir);
  }
  if ([...references].length > 0 || hasSelfReference) {
    throw new Error('internal error: a fixed-output path other than recursive sha256 cannot have references');
  }
  const inner = sha256(bytes(`fixed:out:${method === 'recursive' ? 'r:' : ''}${algo}:${toHex(hash)}:`));
  return makeStorePath('output:out', inner, name, storeDir);
}

/**
 * The path of a source import (`./file` in a string, `builtins.path`, `filterSource`,
 * `nix-store --add`): recursive sha256 over the NAR, type `source`.
 */
export function makeSourcePath(name: string, narHash: Uint8Array, references: Iterable<string> = [], storeDir = STORE_DIR): string {
  return makeFixedOutputPath('recursive', 'sha256', narHash, name, references, false, storeDir);
}

/** Nix's outputPathName: the drv name for `out`, `<name>-<output>` otherwise. */
export function outputPathName(drvName: string, outputName: string): string {
  return outputName === 'out' ? drvName : `${drvName}-${outputName}`;
}

/** The path of an input-addressed output (Nix's makeOutputPath): type `output:<name>`. */
export function makeOutputPath(outputName: string, drvHashModulo: Uint8Array, drvName: string, storeDir = STORE_DIR): string {
  return makeStorePath(`output:${outputName}`, drvHashModulo, outputPathName(drvName, outputName), storeDir);
}

/** builtins.placeholder: `/` + base-32 of sha256(`nix-output:<output>`) (52 characters). */
export function hashPlaceholder(outputName: string): string {
  return '/' + toNixBase32(sha256(bytes(`nix-output:${outputName}`)));
}

/**
 * The `ca` text Nix records for a content-addressed path (ValidPaths.ca):
 * `text:sha256:<b32>` for text paths, `fixed:<r:?><algo>:<b32>` for fixed-output/source paths.
 */
export function renderContentAddress(
  ca: { method: 'text'; hash: Uint8Array } | { method: FileIngestionMethod; algo: HashAlgo; hash: Uint8Array },
): string {
  if (ca.method === 'text') return `text:sha256:${toNixBase32(ca.hash)}`;
  return `fixed:${ca.method === 'recursive' ? 'r:' : ''}${ca.algo}:${toNixBase32(ca.hash)}`;
}
