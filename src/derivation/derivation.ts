// derivation/derivation: the `Derivation` record and its exact Nix 2.8 forms — ATerm `.drv`
// text (unparse and parse), hashDerivationModulo, output paths, drvPath, and the JSON that
// `nix show-derivation` prints. Pure: other derivations are reached only through callbacks
// (`readDerivation`), never by reading a store. All strings are byte strings (latin1).

import { ImgError } from '../base/error.js';
import { quoteJSONString } from '../eval/lib/json.js';
import { HASH_SIZE, isHashAlgo, parseHashBody, sha256, toHex, type HashAlgo } from '../base/hash.js';
import {
  DRV_EXTENSION,
  STORE_DIR,
  compareStrings,
  makeFixedOutputPath,
  makeOutputPath,
  makeTextPath,
  outputPathName,
  parseStorePath,
  sortedUnique,
  storePathName,
  type FileIngestionMethod,
} from './store-path.js';

/**
 * One output as the ATerm holds it. Input-addressed: `{ path, hashAlgo: '', hash: '' }`;
 * fixed-output: `hashAlgo` = `sha256` (flat) or `r:sha256` (recursive), `hash` = hex;
 * floating content-addressed: path '' and hash ''; deferred: all ''.
 */
export interface DerivationOutput {
  path: string;
  hashAlgo: string;
  hash: string;
}

export interface Derivation {
  /** The derivation's name (the drvPath's name without `.drv`); not part of the ATerm. */
  name: string;
  outputs: Map<string, DerivationOutput>;
  /** drvPath → the output names used from it. */
  inputDrvs: Map<string, string[]>;
  inputSrcs: string[];
  platform: string;
  builder: string;
  args: string[];
  env: Map<string, string>;
}

export interface FixedOutputHash {
  method: FileIngestionMethod;
  algo: HashAlgo;
  hash: Buffer;
}

export type OutputKind =
  | { kind: 'inputAddressed'; path: string }
  | ({ kind: 'fixed' } & FixedOutputHash)
  | { kind: 'floating'; method: FileIngestionMethod; algo: HashAlgo }
  | { kind: 'deferred' };

function drvError(msg: string): ImgError {
  return new ImgError('E_DERIVATION', msg);
}

/** Splits an ATerm `hashAlgo` field (`r:sha256`) into method and algorithm. */
export function parseMethodAlgo(hashAlgo: string): { method: FileIngestionMethod; algo: HashAlgo } {
  let method: FileIngestionMethod = 'flat';
  let a = hashAlgo;
  if (a.startsWith('r:')) {
    method = 'recursive';
    a = a.slice(2);
  }
  if (!isHashAlgo(a)) throw new ImgError('E_HASH', `unknown hash algorithm '${a}'`);
  return { method, algo: a };
}

/** `r:sha256` / `sha256` (Nix's FixedOutputHash::printMethodAlgo). */
export function printMethodAlgo(method: FileIngestionMethod, algo: HashAlgo): string {
  return `${method === 'recursive' ? 'r:' : ''}${algo}`;
}

/** What kind of output this is (Nix's parseDerivationOutput). */
export function outputKind(o: DerivationOutput): OutputKind {
  if (o.hashAlgo !== '') {
    const { method, algo } = parseMethodAlgo(o.hashAlgo);
    if (o.hash !== '') {
      if (o.hash.length !== HASH_SIZE[algo] * 2) {
        throw new ImgError('E_HASH', `hash '${o.hash}' has wrong length for hash type '${algo}'`);
      }
      return { kind: 'fixed', method, algo, hash: parseHashBody(o.hash, algo) };
    }
    return { kind: 'floating', method, algo };
  }
  if (o.path === '') return { kind: 'deferred' };
  return { kind: 'inputAddressed', path: o.path };
}

/** The output of a fixed-output derivation, or undefined (Nix: `drv.type() == CAFixed`). */
export function fixedOutput(drv: Derivation): FixedOutputHash | undefined {
  if (drv.outputs.size !== 1) return undefined;
  const out = drv.outputs.get('out');
  if (!out) return undefined;
  const k = outputKind(out);
  return k.kind === 'fixed' ? { method: k.method, algo: k.algo, hash: k.hash } : undefined;
}

/** The path of output `outputName` of a fixed-output derivation named `drvName`. */
export function fixedOutputPath(f: FixedOutputHash, drvName: string, outputName = 'out', storeDir = STORE_DIR): string {
  return makeFixedOutputPath(f.method, f.algo, f.hash, outputPathName(drvName, outputName), [], false, storeDir);
}

// ---------------------------------------------------------------------------------------------
// ATerm

/** An escaped ATerm string (builder, args, env): `"` `\` newline CR tab are escaped. */
function printString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c === 0x0a) esc = '\\n';
    else if (c === 0x0d) esc = '\\r';
    else if (c === 0x09) esc = '\\t';
    if (esc) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** An unescaped ATerm string (store paths, output names, hashes, platform): written raw. */
function printUnquoted(s: string): string {
  return `"${s}"`;
}

function sortedKeys<V>(m: Map<string, V>): string[] {
  return [...m.keys()].sort(compareStrings);
}

export interface UnparseOptions {
  /** Blank the output paths and the env values of output names (for hashing a new derivation). */
  maskOutputs?: boolean;
  /** Replaces inputDrvs (Nix's `actualInputs`): modulo-hash hex → output names. */
  actualInputs?: Map<string, string[]>;
}

/** The ATerm `.drv` text (Nix's Derivation::unparse); no trailing newline. */
export function unparseDerivation(drv: Derivation, opts: UnparseOptions = {}): string {
  const mask = !!opts.maskOutputs;
  const parts: string[] = ['Derive(['];
  sortedKeys(drv.outputs).forEach((name, i) => {
    const o = drv.outputs.get(name)!;
    if (i) parts.push(',');
    const path = mask ? '' : o.path;
    parts.push(`(${printUnquoted(name)},${printUnquoted(path)},${printUnquoted(o.hashAlgo)},${printUnquoted(o.hash)})`);
  });
  parts.push('],[');
  const inputs = opts.actualInputs ?? drv.inputDrvs;
  sortedKeys(inputs).forEach((p, i) => {
    if (i) parts.push(',');
    const outs = sortedUnique(inputs.get(p)!);
    parts.push(`(${printUnquoted(p)},[${outs.map(printUnquoted).join(',')}])`);
  });
  parts.push('],[');
  parts.push(sortedUnique(drv.inputSrcs).map(printUnquoted).join(','));
  parts.push('],');
  parts.push(printUnquoted(drv.platform), ',', printString(drv.builder), ',[');
  parts.push(drv.args.map(printString).join(','));
  parts.push('],[');
  sortedKeys(drv.env).forEach((k, i) => {
    if (i) parts.push(',');
    const v = mask && drv.outputs.has(k) ? '' : drv.env.get(k)!;
    parts.push(`(${printString(k)},${printString(v)})`);
  });
  parts.push('])');
  return parts.join('');
}

/** Parses `.drv` text (Nix's parseDerivation). `name` is the derivation name (see drvNameOf). */
export function parseDerivation(text: string, name: string, storeDir = STORE_DIR): Derivation {
  let pos = 0;
  const fail = (what: string): never => {
    throw new ImgError('E_STORE', `error parsing derivation '${name}': ${what} at offset ${pos}`);
  };
  const expect = (s: string): void => {
    if (!text.startsWith(s, pos)) fail(`expected string '${s}'`);
    pos += s.length;
  };
  const parseString = (): string => {
    if (text[pos] !== '"') fail('expected string');
    pos++;
    let out = '';
    let start = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c === 0x5c) {
        out += text.slice(start, pos);
        const n = text[pos + 1];
        if (n === undefined) fail('unterminated string');
        out += n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n;
        pos += 2;
        start = pos;
      } else pos++;
    }
    out += text.slice(start, pos);
    pos++;
    return out;
  };
  const parsePath = (): string => {
    const s = parseString();
    if (s.length === 0 || s[0] !== '/') fail(`bad path '${s}' in derivation`);
    return s;
  };
  const endOfList = (): boolean => {
    if (text[pos] === ',') {
      pos++;
      return false;
    }
    if (text[pos] === ']') {
      pos++;
      return true;
    }
    return false;
  };
  const parseStrings = (arePaths: boolean): string[] => {
    const out: string[] = [];
    while (!endOfList()) out.push(arePaths ? parsePath() : parseString());
    return out;
  };

  const drv: Derivation = {
    name,
    outputs: new Map(),
    inputDrvs: new Map(),
    inputSrcs: [],
    platform: '',
    builder: '',
    args: [],
    env: new Map(),
  };
  expect('Derive([');
  while (!endOfList()) {
    expect('(');
    const id = parseString();
    expect(',');
    const path = parseString();
    expect(',');
    const hashAlgo = parseString();
    expect(',');
    const hash = parseString();
    expect(')');
    const o = { path, hashAlgo, hash };
    const k = outputKind(o);
    if (k.kind === 'fixed' || k.kind === 'inputAddressed') parseStorePath(path, storeDir);
    drv.outputs.set(id, o);
  }
  expect(',[');
  while (!endOfList()) {
    expect('(');
    const p = parsePath();
    expect(',[');
    drv.inputDrvs.set(p, parseStrings(false));
    expect(')');
  }
  expect(',[');
  drv.inputSrcs = parseStrings(true);
  expect(',');
  drv.platform = parseString();
  expect(',');
  drv.builder = parseString();
  expect(',[');
  while (!endOfList()) drv.args.push(parseString());
  expect(',[');
  while (!endOfList()) {
    expect('(');
    const k = parseString();
    expect(',');
    const v = parseString();
    expect(')');
    drv.env.set(k, v);
  }
  expect(')');
  if (pos !== text.length) fail('trailing characters');
  return drv;
}

/** The derivation name of a drvPath: its store path name without `.drv`. */
export function drvNameOf(drvPath: string, storeDir = STORE_DIR): string {
  const n = storePathName(drvPath, storeDir);
  if (!n.endsWith(DRV_EXTENSION)) throw drvError(`path '${drvPath}' is not a derivation`);
  return n.slice(0, -DRV_EXTENSION.length);
}

/** Reads a `.drv` file's bytes (as a latin1 string or Buffer) given its store path. */
export function parseDerivationFile(drvPath: string, contents: string | Uint8Array, storeDir = STORE_DIR): Derivation {
  const text = typeof contents === 'string' ? contents : Buffer.from(contents).toString('latin1');
  return parseDerivation(text, drvNameOf(drvPath, storeDir), storeDir);
}

// ---------------------------------------------------------------------------------------------
// hashDerivationModulo

/** A regular derivation hashes to one hash; a fixed-output one to one hash per output. */
export type DrvHashModulo = { kind: 'regular'; hash: Buffer } | { kind: 'fixed'; hashes: Map<string, Buffer> };

/**
 * Nix's hashDerivationModulo. Fixed-output: sha256(`fixed:out:<r:?algo>:<hex>:<out path>`)
 * per output. Otherwise the ATerm with every inputDrv replaced by its own modulo hash (hex),
 * masked when `maskOutputs`. `inputHash` gives the (memoised) modulo hash of an input drvPath.
 */
export function hashDerivationModulo(
  drv: Derivation,
  maskOutputs: boolean,
  inputHash: (drvPath: string) => DrvHashModulo,
  storeDir = STORE_DIR,
): DrvHashModulo {
  const fixed = fixedOutput(drv);
  if (fixed) {
    const hashes = new Map<string, Buffer>();
    for (const name of drv.outputs.keys()) {
      const p = fixedOutputPath(fixed, drv.name, name, storeDir);
      hashes.set(name, sha256(Buffer.from(`fixed:out:${printMethodAlgo(fixed.method, fixed.algo)}:${toHex(fixed.hash)}:${p}`, 'latin1')));
    }
    return { kind: 'fixed', hashes };
  }
  // Blank outputs (a derivation being created, or "deferred") hash like input-addressed ones.
  for (const o of drv.outputs.values()) {
    if (outputKind(o).kind === 'floating') {
      throw drvError(`derivation '${drv.name}' has a floating content-addressed output, which needs the experimental feature 'ca-derivations'`);
    }
  }
  // std::map insert_or_assign in inputDrvs order: equal hashes collapse, the last one wins.
  const inputs2 = new Map<string, string[]>();
  for (const p of sortedKeys(drv.inputDrvs)) {
    const outs = drv.inputDrvs.get(p)!;
    const h = inputHash(p);
    if (h.kind === 'regular') inputs2.set(toHex(h.hash), outs);
    else {
      for (const o of outs) {
        const oh = h.hashes.get(o);
        if (!oh) throw drvError(`derivation '${p}' does not have an output named '${o}'`);
        inputs2.set(toHex(oh), ['out']);
      }
    }
  }
  return { kind: 'regular', hash: sha256(Buffer.from(unparseDerivation(drv, { maskOutputs, actualInputs: inputs2 }), 'latin1')) };
}

/**
 * The memo of modulo hashes by drvPath (Nix's drvHashes): filled on demand by reading input
 * derivations through `readDerivation`, or directly (`set`) for derivations just created.
 */
export class DrvHashes {
  private readonly memo = new Map<string, DrvHashModulo>();
  constructor(
    private readonly readDerivation: (drvPath: string) => Derivation,
    readonly storeDir = STORE_DIR,
  ) {}

  /** The unmasked modulo hash of the derivation at drvPath (Nix's pathDerivationModulo). */
  get(drvPath: string): DrvHashModulo {
    let h = this.memo.get(drvPath);
    if (!h) {
      // Iterative post-order walk so deep graphs do not overflow the JS stack.
      const stack: { path: string; drv: Derivation; next: number; keys: string[] }[] = [];
      const push = (p: string) => {
        const d = this.readDerivation(p);
        stack.push({ path: p, drv: d, next: 0, keys: sortedKeys(d.inputDrvs) });
      };
      push(drvPath);
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        if (top.next < top.keys.length && !fixedOutput(top.drv)) {
          const k = top.keys[top.next++]!;
          if (!this.memo.has(k)) push(k);
          continue;
        }
        stack.pop();
        this.memo.set(top.path, hashDerivationModulo(top.drv, false, (p) => this.memo.get(p)!, this.storeDir));
      }
      h = this.memo.get(drvPath)!;
    }
    return h;
  }

  set(drvPath: string, h: DrvHashModulo): void {
    this.memo.set(drvPath, h);
  }

  /** hashDerivationModulo of `drv` with inputs from this memo. */
  of(drv: Derivation, maskOutputs: boolean): DrvHashModulo {
    return hashDerivationModulo(drv, maskOutputs, (p) => this.get(p), this.storeDir);
  }
}

/** The references of a `.drv` file: inputSrcs ∪ inputDrvs keys (output paths are not references). */
export function derivationReferences(drv: Derivation): string[] {
  return sortedUnique([...drv.inputSrcs, ...drv.inputDrvs.keys()]);
}

/** The store path of a derivation's `.drv` file (Nix's writeDerivation, computing only). */
export function computeDrvPath(drv: Derivation, storeDir = STORE_DIR): { drvPath: string; aterm: string } {
  const aterm = unparseDerivation(drv);
  return { drvPath: makeTextPath(drv.name + DRV_EXTENSION, aterm, derivationReferences(drv), storeDir), aterm };
}

/**
 * Fills in the output paths (and the env entries of the outputs) of an input-addressed
 * derivation whose outputs are still blank, as derivationStrict does: hash the masked ATerm,
 * then `output:<name>` paths.
 */
export function computeOutputPaths(drv: Derivation, hashes: DrvHashes): Map<string, string> {
  const h = hashes.of(drv, true);
  if (h.kind !== 'regular') throw new Error('internal error: computeOutputPaths on a fixed-output derivation');
  const out = new Map<string, string>();
  for (const name of sortedKeys(drv.outputs)) {
    const p = makeOutputPath(name, h.hash, drv.name, hashes.storeDir);
    out.set(name, p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON (`nix show-derivation`)

/** Nix's toJSON quoting of a string (the evaluator's): what `nix show-derivation` writes. */
export const jsonString = quoteJSONString;

type J = string | J[] | [string, J][];
/** Pretty JSON as Nix's JSONWriter writes it (2-space indent, `"k": v`, `{}`/`[]` when empty). */
function writeJson(v: J | { obj: [string, J][] }, depth: number): string {
  const ind = (d: number) => '  '.repeat(d);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[\n' + v.map((x) => ind(depth + 1) + writeJson(x as J, depth + 1)).join(',\n') + '\n' + ind(depth) + ']';
  }
  if (v.obj.length === 0) return '{}';
  return '{\n' + v.obj.map(([k, x]) => `${ind(depth + 1)}${jsonString(k)}: ${writeJson(x as never, depth + 1)}`).join(',\n') + '\n' + ind(depth) + '}';
}

/**
 * The JSON object `nix show-derivation` prints for one derivation (keys outputs, inputSrcs,
 * inputDrvs, system, builder, args, env), as a JS value with keys in Nix's order.
 */
export function derivationToJson(drv: Derivation, storeDir = STORE_DIR): Record<string, unknown> {
  const outputs: Record<string, Record<string, string>> = {};
  for (const name of sortedKeys(drv.outputs)) {
    const o = drv.outputs.get(name)!;
    const k = outputKind(o);
    if (k.kind === 'inputAddressed') outputs[name] = { path: o.path };
    else if (k.kind === 'fixed') {
      outputs[name] = { path: fixedOutputPath(k, drv.name, name, storeDir), hashAlgo: o.hashAlgo, hash: toHex(k.hash) };
    } else if (k.kind === 'floating') outputs[name] = { hashAlgo: o.hashAlgo };
    else outputs[name] = {};
  }
  const inputDrvs: Record<string, string[]> = {};
  for (const p of sortedKeys(drv.inputDrvs)) inputDrvs[p] = sortedUnique(drv.inputDrvs.get(p)!);
  const env: Record<string, string> = {};
  for (const k of sortedKeys(drv.env)) env[k] = drv.env.get(k)!;
  return {
    outputs,
    inputSrcs: sortedUnique(drv.inputSrcs),
    inputDrvs,
    system: drv.platform,
    builder: drv.builder,
    args: [...drv.args],
    env,
  };
}

/**
 * The exact text `nix show-derivation` prints for these derivations (a JSON object keyed by
 * drvPath in the given order, then a newline). Strings are byte strings.
 */
export function showDerivationJson(drvs: { drvPath: string; drv: Derivation }[], storeDir = STORE_DIR): string {
  const str = (s: string) => jsonString(s);
  const obj = (entries: [string, J | { obj: [string, J][] }][]) => ({ obj: entries as [string, J][] });
  const root = drvs.map(({ drvPath, drv }) => {
    const j = derivationToJson(drv, storeDir) as {
      outputs: Record<string, Record<string, string>>;
      inputSrcs: string[];
      inputDrvs: Record<string, string[]>;
      system: string;
      builder: string;
      args: string[];
      env: Record<string, string>;
    };
    // Object.entries keeps insertion order for non-integer keys only; build from sorted lists.
    const outs = sortedKeys(drv.outputs).map((n) => [n, obj(Object.entries(j.outputs[n]!).map(([k, v]) => [k, str(v)]))] as [string, never]);
    const value = obj([
      ['outputs', obj(outs)],
      ['inputSrcs', j.inputSrcs.map(str)],
      ['inputDrvs', obj(sortedKeys(drv.inputDrvs).map((p) => [p, j.inputDrvs[p]!.map(str)] as [string, J]))],
      ['system', str(j.system)],
      ['builder', str(j.builder)],
      ['args', j.args.map(str)],
      ['env', obj(sortedKeys(drv.env).map((k) => [k, str(drv.env.get(k)!)] as [string, J]))],
    ]);
    return [drvPath, value] as [string, never];
  });
  return writeJson(obj(root), 0) + '\n';
}
