// store/path-info: `ValidPathInfo`, what the store knows about a valid path (Nix's name and
// fields), its conversion to and from database rows, and the JSON `nix path-info --json` prints
// (same keys, same order). Pure: never reads the database or the file system.

import { parseHash, printHash } from '../base/hash.js';
import type { PathRecord, PathRow } from './db.js';

export interface ValidPathInfo {
  /** Logical store path `/nix/store/<hash>-<name>`. */
  readonly path: string;
  /** NAR hash as Nix prints it: `sha256:<base32>`. */
  readonly narHash: string;
  readonly narSize: number;
  /** Store paths this path refers to, sorted (itself included when it contains its own hash). */
  readonly references: readonly string[];
  /** The `.drv` that built it, if known. */
  readonly deriver?: string;
  /** Content-address assertion: `text:sha256:<b32>`, `fixed:r:sha256:<b32>`, `fixed:<algo>:<b32>`. */
  readonly ca?: string;
  /** Unix seconds. */
  readonly registrationTime: number;
  /** Built locally (trusted). */
  readonly ultimate: boolean;
  readonly sigs: readonly string[];
}

/** A path to register; time defaults to now, `ultimate` to false, `sigs` to none. */
export interface NewPathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: readonly string[];
  deriver?: string;
  ca?: string;
  registrationTime?: number;
  ultimate?: boolean;
  sigs?: readonly string[];
  /** For a `.drv` path: its outputs (name → output path), recorded in DerivationOutputs. */
  derivationOutputs?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

/** Nix's canonical form of a NAR hash (`sha256:<base32>`), from any accepted spelling. */
export function canonicalNarHash(text: string): string {
  const h = parseHash(text, 'sha256');
  return printHash('sha256', h.bytes, 'base32', true);
}

export function infoFromRow(row: PathRow, references: readonly string[]): ValidPathInfo {
  return {
    path: row.path,
    narHash: canonicalNarHash(row.hash),
    narSize: row.narSize ?? 0,
    references,
    ...(row.deriver ? { deriver: row.deriver } : {}),
    ...(row.ca ? { ca: row.ca } : {}),
    registrationTime: row.registrationTime,
    ultimate: row.ultimate === 1,
    sigs: row.sigs ? row.sigs.split(' ').filter((s) => s !== '') : [],
  };
}

/** The ValidPaths row Nix writes for an info: hash as `sha256:<hex>`, NULL for absent fields. */
export function recordOf(info: NewPathInfo, now: number): PathRecord {
  const h = parseHash(info.narHash, 'sha256');
  return {
    path: info.path,
    hash: printHash('sha256', h.bytes, 'base16', true),
    registrationTime: info.registrationTime ?? now,
    deriver: info.deriver ?? null,
    narSize: info.narSize !== 0 ? info.narSize : null,
    ultimate: info.ultimate === true,
    sigs: info.sigs && info.sigs.length ? info.sigs.join(' ') : null,
    ca: info.ca ?? null,
  };
}

/** One object of `nix path-info --json` (Nix 2.8's key order; SRI narHash). */
export function pathInfoJSON(info: ValidPathInfo, closureSize?: number): Record<string, unknown> {
  const o: Record<string, unknown> = {
    path: info.path,
    narHash: printHash('sha256', parseHash(info.narHash, 'sha256').bytes, 'sri', true),
    narSize: info.narSize,
    references: [...info.references],
  };
  if (info.ca) o.ca = info.ca;
  if (closureSize !== undefined) o.closureSize = closureSize;
  if (info.deriver) o.deriver = info.deriver;
  if (info.registrationTime) o.registrationTime = info.registrationTime;
  if (info.ultimate) o.ultimate = true;
  if (info.sigs.length) o.signatures = [...info.sigs];
  return o;
}
