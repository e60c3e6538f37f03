// build/builder-registry: the interface of built-in builders (`builtin:<name>` derivations, run
// in-process in TypeScript) and the registry table the scheduler looks them up in. A builder gets
// a BuiltinBuildContext: the derivation and its env (byte strings), the logical output paths to
// refer to, the physical temporary locations to create them at, a read-only view of the store
// (to read inputs by physical path), a scratch dir, a log sink and an abort signal. It never
// registers anything and never writes outside its output locations and scratch dir: hashing,
// reference scanning, moving into place and registration are the scheduler's job (a builder that
// writes a big single-file output may hash and scan it while writing, with build/output.ts's
// NarFileHasher (build/nar-file-hash.ts) over `referenceCandidates`, and hand the result over with `outputHashed`).

import { ImgError } from '../base/error.js';
import type { Derivation } from '../derivation/derivation.js';
import type { HashedOutput } from './nar-file-hash.js';
import type { LocalStore } from '../store/local-store.js';

/** What a builder may ask the store: locations and metadata of valid paths, never writes. */
export type BuildStoreView = Pick<
  LocalStore,
  'storeDir' | 'toPhysical' | 'isValidPath' | 'queryPathInfo' | 'queryReferences' | 'queryClosureGraph' | 'computeFSClosure' | 'topoSortPaths'
>;

export interface BuiltinBuildContext {
  /** The `.drv` being built (logical `/nix/store/…drv`). */
  readonly drvPath: string;
  readonly drv: Derivation;
  /** The derivation's environment: every attribute as a byte string (latin1), outputs included. */
  readonly env: ReadonlyMap<string, string>;
  /** Output name → logical store path (`/nix/store/<hash>-name`): what the content refers to. */
  readonly outputs: ReadonlyMap<string, string>;
  /**
   * Output name → physical location to create (a file, a directory or a symlink). It does not
   * exist yet; its parent does. The scheduler canonicalises, hashes and moves it into the store.
   */
  readonly outputTemps: ReadonlyMap<string, string>;
  /**
   * The store paths an output may refer to (the input closure and the derivation's outputs): the
   * candidates of the reference scan.
   */
  readonly referenceCandidates: readonly string[];
  /**
   * Hands over what the builder computed while writing output `name` as a single regular file
   * (build/nar-file-hash.ts NarFileHasher: NAR hash, NAR size, references over `referenceCandidates`),
   * so the scheduler does not read it again. Ignored for fixed-output derivations and by
   * `--check`, which always hash the output themselves.
   */
  outputHashed(name: string, info: HashedOutput): void;
  /** Read access to the store: inputs are read at `store.toPhysical(path)`. */
  readonly store: BuildStoreView;
  /** A private scratch directory (created when first read, removed after the build). */
  readonly tmpDir: string;
  /** Number of cores the builder may use (NIX_BUILD_CORES). */
  readonly cores: number;
  /** Appends a line to the derivation's build log (shown in the error's tail on failure). */
  log(line: string): void;
  /** Aborted when the build is cancelled; long builders should stop early. */
  readonly signal: AbortSignal;
}

export interface BuiltinBuilder {
  /** The name after `builtin:` (the derivation's `builder` is `builtin:<name>`). */
  readonly name: string;
  /** One paragraph: the env attributes it reads and what $out becomes. */
  readonly doc: string;
  /** Creates every output at `ctx.outputTemps`; throws ImgError (code E_BUILD) on user errors. */
  run(ctx: BuiltinBuildContext): Promise<void> | void;
}

/** The table of built-in builders, by name. Immutable: `with` returns an extended copy. */
export class BuiltinRegistry {
  private readonly table: ReadonlyMap<string, BuiltinBuilder>;

  constructor(builders: Iterable<BuiltinBuilder> = []) {
    const m = new Map<string, BuiltinBuilder>();
    for (const b of builders) {
      if (m.has(b.name)) throw new Error(`internal error: two built-in builders named '${b.name}'`);
      m.set(b.name, b);
    }
    this.table = m;
  }

  /** A registry with these builders added (same-named ones replace the old ones). */
  with(builders: Iterable<BuiltinBuilder>): BuiltinRegistry {
    const m = new Map(this.table);
    for (const b of builders) m.set(b.name, b);
    return new BuiltinRegistry(m.values());
  }

  get(name: string): BuiltinBuilder | undefined {
    return this.table.get(name);
  }

  /** The builders sorted by name (for `--doc`-style listings). */
  list(): BuiltinBuilder[] {
    return [...this.table.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** `builtin:foo` → `foo`; undefined for a process builder. */
export function builtinName(builder: string): string | undefined {
  return builder.startsWith('builtin:') ? builder.slice('builtin:'.length) : undefined;
}

/** The user error of a built-in builder (code E_BUILD). */
export function builderError(builder: string, message: string): ImgError {
  return new ImgError('E_BUILD', `builtin:${builder}: ${message}`);
}

/** A required env attribute, or an error naming it. */
export function requireEnv(ctx: BuiltinBuildContext, builder: string, key: string): string {
  const v = ctx.env.get(key);
  if (v === undefined) throw builderError(builder, `missing attribute '${key}'`);
  return v;
}

/** The physical location of output `out` (the only output most builtins have). */
export function outTemp(ctx: BuiltinBuildContext, builder: string): string {
  const p = ctx.outputTemps.get('out');
  if (p === undefined) throw builderError(builder, `the derivation has no output named 'out'`);
  return p;
}

/** A byte string (latin1) as a file system path Buffer. */
export function fsPath(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
