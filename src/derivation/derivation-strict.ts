// derivation/derivation-strict: the pure part of Nix 2.8's `derivationStrict` primop — from
// attributes already turned into strings (and their string context) to the Derivation, its
// output paths and drvPath, with Nix's validation errors in Nix's order. The evaluator forces and
// coerces the attributes (rules below) and writes the `.drv` to the store; nothing here does IO.
//
// How Nix 2.8 turns the attribute set into the derivation (prim_derivationStrict), for the
// evaluator that wraps this:
//  * `name` is required ("required attribute 'name' missing") and forced to a string WITHOUT
//    context (forceStringNoCtx).
//  * `__structuredAttrs` (forceBool) and `__ignoreNulls` (forceBool) are read first.
//  * The attributes are then processed in lexicographic (byte) order of their names, with the
//    trace "while evaluating the attribute '<key>' of the derivation '<name>'":
//    - `__ignoreNulls` is skipped; with __ignoreNulls = true every attribute whose value is
//      null is skipped entirely (also under structured attrs).
//    - `__contentAddressed` needs the experimental feature 'ca-derivations' (error otherwise).
//    - `args`: a list; each element is coerced with coerceToString(coerceMore = true,
//      copyToStore = true) (rules below); the strings become the builder arguments. `args`
//      never becomes an env entry nor a `__json` key.
//    - Otherwise, without structured attrs: the value is coerced with coerceToString(
//      coerceMore = true, copyToStore = true) and stored as env[key]. Then `builder` → builder,
//      `system` → platform, `outputHash`, `outputHashAlgo`, `outputHashMode` (checked at once by
//      parseOutputHashMode) and `outputs` (the string tokenized on " \t\n\r", then checked at
//      once by checkOutputs) are taken from that string.
//    - With `__structuredAttrs = true`: `__structuredAttrs` itself is skipped; every other
//      value is written into one JSON object (compact, keys in the same byte order) with
//      printValueAsJSON(strict, copyToStore = true): strings with their context, paths copied to
//      the store, sets with `__toString` → that string, sets with `outPath` → that value,
//      floats with C++ `ostream << double` (6 significant digits, %g). In addition `builder`
//      (forceString, context kept), `system`, `outputHash`, `outputHashAlgo`, `outputHashMode`
//      (forceStringNoCtx) and `outputs` (a list of strings, forceStringNoCtx each) are read as
//      above. The env then holds only `__json` = that JSON text (plus the outputs, added here).
//  * coerceToString(coerceMore = true, copyToStore = true) — the env string of a value:
//    string → itself (context kept); path → copied to the store (addToStore: recursive sha256
//    over the NAR, name = basename, default filter) and the store path (context = that path);
//    set with `__toString` → its result; set with `outPath` → coerce that; other set → "cannot
//    coerce a set to a string"; true → "1"; false → ""; null → ""; int → decimal; float →
//    C's "%f" (std::to_string: `1.5` → "1.500000"); list → the elements coerced the same way
//    and joined with one space, EXCEPT that no space follows an element that is an empty list
//    (`[ [] "a" ]` → "a", `[ "a" [] "b" ]` → "a b"; Nix's "not quite correct"); function →
//    "cannot coerce a function to a string".
//  * The union of all contexts then gives the inputs: `!<out>!<drv>` → inputDrvs[drv] ∪= {out};
//    `=<drv>` (a drvPath string) → the whole closure of drv: every path of it into inputSrcs,
//    and every .drv of it into inputDrvs with all its outputs; a plain path → inputSrcs.
//  * Everything after the loop is `derivationStrict` below.

import { ImgError } from '../base/error.js';
import { parseHash, parseHashAlgo, toSRI, HASH_SIZE, type HashAlgo } from '../base/hash.js';
import {
  DRV_EXTENSION,
  STORE_DIR,
  compareStrings,
  isDerivationPath,
  makeOutputPath,
  parseStorePath,
  sortedUnique,
  type FileIngestionMethod,
} from './store-path.js';
import {
  DrvHashes,
  computeDrvPath,
  derivationReferences,
  fixedOutputPath,
  printMethodAlgo,
  type Derivation,
} from './derivation.js';
import { toHex } from '../base/hash.js';

function evalError(msg: string): ImgError {
  return new ImgError('E_DERIVATION', msg);
}

/** `outputHashMode`: "flat" or "recursive" (2.8 has no "text"). */
export function parseOutputHashMode(s: string): FileIngestionMethod {
  if (s === 'recursive' || s === 'flat') return s;
  throw evalError(`invalid value '${s}' for 'outputHashMode' attribute`);
}

/** Nix's tokenizeString with the default separators " \t\n\r" (for the `outputs` env string). */
export function tokenizeOutputs(s: string): string[] {
  return s.split(/[ \t\n\r]+/).filter((x) => x !== '');
}

/** Nix's handleOutputs: no duplicates, no output named `drv`, not empty. Returns the set, sorted. */
export function checkOutputs(outputs: string[]): string[] {
  const seen = new Set<string>();
  for (const o of outputs) {
    if (seen.has(o)) throw evalError(`duplicate derivation output '${o}'`);
    if (o === 'drv') throw evalError(`invalid derivation output name 'drv'`);
    seen.add(o);
  }
  if (seen.size === 0) throw evalError('derivation cannot have an empty set of outputs');
  return [...seen].sort(compareStrings);
}

/** Nix's parseHashTypeOpt: an unknown or empty name is simply "no type". */
function parseHashTypeOpt(s: string): HashAlgo | undefined {
  try {
    return parseHashAlgo(s);
  } catch {
    return undefined;
  }
}

/**
 * Nix's newHashAllowEmpty: an empty hash needs an explicit type and means all zeros (with a
 * warning); otherwise Hash::parseAny.
 */
export function newHashAllowEmpty(hashStr: string, algo: HashAlgo | undefined, warnings: string[]): { algo: HashAlgo; bytes: Buffer } {
  if (hashStr === '') {
    if (!algo) throw new ImgError('E_HASH', 'empty hash requires explicit hash type');
    const bytes = Buffer.alloc(HASH_SIZE[algo]);
    warnings.push(`found empty hash, assuming '${toSRI(algo, bytes)}'`);
    return { algo, bytes };
  }
  return parseHash(hashStr, algo);
}

export interface DerivationStrictInput {
  name: string;
  /**
   * The env entries made in the attribute loop (every attribute but `args`, `__ignoreNulls`
   * and skipped nulls, as strings; or only `__json` under structured attrs). Output entries are
   * added here.
   */
  env: Map<string, string>;
  args: string[];
  /** From `builder` / `system`; '' or undefined when missing. */
  builder?: string;
  system?: string;
  /** The `outputs` list (tokenized env string, or the structured list); default ["out"]. */
  outputs?: string[];
  outputHash?: string;
  /** '' or undefined when not given. */
  outputHashAlgo?: string;
  outputHashMode?: string;
  /** The union of the string contexts of all attributes (`/p`, `=/drv`, `!out!/drv`). */
  context: Iterable<string>;
}

export interface DerivationStrictOptions {
  storeDir?: string;
  /** Modulo hashes of input derivations (reads them on demand); the new drv is added to it. */
  hashes: DrvHashes;
  /** Reads a derivation (for `=drvPath` contexts: its output names). */
  readDerivation: (drvPath: string) => Derivation;
  /** The references of a store path (for `=drvPath` contexts: the closure walk). */
  queryReferences: (path: string) => Iterable<string>;
}

export interface DerivationStrictResult {
  drv: Derivation;
  drvPath: string;
  /** The `.drv` file contents (ATerm). */
  aterm: string;
  /** The references to register for the `.drv` path (inputSrcs ∪ inputDrvs). */
  references: string[];
  /** Output name → output path, sorted by name. */
  outputPaths: Map<string, string>;
  /** Warnings Nix prints (e.g. "found empty hash, assuming 'sha256-…'"). */
  warnings: string[];
}

/** The closure of a store path (Nix's computeFSClosure), via the references callback. */
function closureOf(start: string, refs: (p: string) => Iterable<string>): string[] {
  const seen = new Set<string>([start]);
  const todo = [start];
  while (todo.length) {
    const p = todo.pop()!;
    for (const r of refs(p)) {
      if (!seen.has(r)) {
        seen.add(r);
        todo.push(r);
      }
    }
  }
  return [...seen];
}

/**
 * What derivationStrict does after the attribute loop: inputs from the context, required
 * attributes, name check, fixed-output or input-addressed outputs, the drvPath. Errors carry
 * Nix 2.8's messages, in its order.
 */
export function derivationStrict(input: DerivationStrictInput, opts: DerivationStrictOptions): DerivationStrictResult {
  const storeDir = opts.storeDir ?? STORE_DIR;
  const warnings: string[] = [];
  const drvName = input.name;
  // The loop meets `outputHashMode` before `outputs` (byte order), so its error comes first.
  const method: FileIngestionMethod = input.outputHashMode === undefined ? 'flat' : parseOutputHashMode(input.outputHashMode);
  const outputs = input.outputs === undefined ? ['out'] : checkOutputs(input.outputs);

  const env = new Map(input.env);
  const inputDrvs = new Map<string, Set<string>>();
  const inputSrcs = new Set<string>();
  const addInputDrv = (p: string, outs: Iterable<string>, replace = false) => {
    let s = inputDrvs.get(p);
    if (!s || replace) inputDrvs.set(p, (s = new Set()));
    for (const o of outs) s.add(o);
  };
  // Nix iterates the context as a sorted std::set: '!' < '/' < '='.
  for (const c of [...new Set(input.context)].sort(compareStrings)) {
    if (c.startsWith('=')) {
      const p = c.slice(1);
      parseStorePath(p, storeDir);
      const refs = (q: string): Iterable<string> => opts.queryReferences(q);
      for (const j of closureOf(p, refs)) {
        inputSrcs.add(j);
        if (isDerivationPath(j)) addInputDrv(j, opts.readDerivation(j).outputs.keys(), true);
      }
    } else if (c.startsWith('!')) {
      const bang = c.indexOf('!', 1);
      if (bang < 0) throw new Error(`internal error: bad string context '${c}'`);
      const out = c.slice(1, bang);
      const p = c.slice(bang + 1);
      parseStorePath(p, storeDir);
      addInputDrv(p, [out]);
    } else {
      parseStorePath(c, storeDir);
      inputSrcs.add(c);
    }
  }

  const builder = input.builder ?? '';
  const platform = input.system ?? '';
  if (builder === '') throw evalError(`required attribute 'builder' missing`);
  if (platform === '') throw evalError(`required attribute 'system' missing`);
  if (drvName.endsWith(DRV_EXTENSION)) throw evalError(`derivation names are not allowed to end in '${DRV_EXTENSION}'`);

  const drv: Derivation = {
    name: drvName,
    outputs: new Map(),
    inputDrvs: new Map([...inputDrvs].map(([k, v]) => [k, [...v].sort(compareStrings)])),
    inputSrcs: sortedUnique(inputSrcs),
    platform,
    builder,
    args: [...input.args],
    env,
  };

  const outputPaths = new Map<string, string>();
  if (input.outputHash !== undefined) {
    if (outputs.length !== 1 || outputs[0] !== 'out') {
      throw evalError('multiple outputs are not supported in fixed-output derivations');
    }
    const h = newHashAllowEmpty(input.outputHash, parseHashTypeOpt(input.outputHashAlgo ?? ''), warnings);
    const fixed = { method, algo: h.algo, hash: h.bytes };
    const p = fixedOutputPath(fixed, drvName, 'out', storeDir);
    env.set('out', p);
    drv.outputs.set('out', { path: p, hashAlgo: printMethodAlgo(method, h.algo), hash: toHex(h.bytes) });
    outputPaths.set('out', p);
  } else {
    for (const o of outputs) {
      env.set(o, '');
      drv.outputs.set(o, { path: '', hashAlgo: '', hash: '' });
    }
    const h = opts.hashes.of(drv, true);
    if (h.kind !== 'regular') throw new Error('internal error: input-addressed derivation hashed as fixed');
    for (const o of outputs) {
      const p = makeOutputPath(o, h.hash, drvName, storeDir);
      env.set(o, p);
      drv.outputs.set(o, { path: p, hashAlgo: '', hash: '' });
      outputPaths.set(o, p);
    }
  }

  const { drvPath, aterm } = computeDrvPath(drv, storeDir);
  opts.hashes.set(drvPath, opts.hashes.of(drv, false));
  return { drv, drvPath, aterm, references: derivationReferences(drv), outputPaths, warnings };
}
