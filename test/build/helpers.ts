// Test helpers for test/build: temp stores, derivations written into a store the way the
// evaluator's derivationStrict does (through helper-4's derivationStrict + addTextToStore), a
// counter directory builders can see (the sandbox hides /tmp, so it lives in /dev/shm), and the
// CLI run as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DrvHashes, parseDerivationFile } from '../../src/derivation/derivation.js';
import { derivationStrict } from '../../src/derivation/derivation-strict.js';
import { deleteTree } from '../../src/store/fs-tree.js';
import { LocalStore } from '../../src/store/local-store.js';
import { readFileSync } from 'node:fs';
import { ROOT } from '../helpers/tools.js';

const made: string[] = [];

export function tempDir(tag: string, base = tmpdir()): string {
  const d = mkdtempSync(join(base, `imgeval-build-${tag}-`));
  made.push(d);
  return d;
}

/** A directory builders inside the sandbox can write to (the sandbox gives them a private /tmp). */
export function sharedDir(tag: string): string {
  return tempDir(tag, '/dev/shm');
}

export function cleanup(): void {
  for (const d of made.splice(0)) deleteTree(d);
}

export function openStore(root: string): LocalStore {
  return LocalStore.open({ root });
}

export interface DrvSpec {
  name: string;
  builder: string;
  args?: string[];
  /** Attributes besides name/system/builder (strings). */
  env?: Record<string, string>;
  /** Input derivations and the outputs used. */
  inputs?: [drvPath: string, outputs: string[]][];
  /** Input sources (valid store paths). */
  srcs?: string[];
  outputs?: string[];
  /** Default x86_64-linux. */
  system?: string;
  outputHash?: string;
  outputHashAlgo?: string;
  outputHashMode?: string;
}

/** Writes a derivation into the store as `derivation { … }` would; returns drvPath and outputs. */
export function addDrv(store: LocalStore, spec: DrvSpec): { drvPath: string; out: Map<string, string> } {
  const env = new Map<string, string>([
    ['builder', spec.builder],
    ['name', spec.name],
    ['system', spec.system ?? 'x86_64-linux'],
  ]);
  for (const [k, v] of Object.entries(spec.env ?? {})) env.set(k, v);
  if (spec.outputs) env.set('outputs', spec.outputs.join(' '));
  if (spec.outputHash !== undefined) env.set('outputHash', spec.outputHash);
  if (spec.outputHashAlgo !== undefined) env.set('outputHashAlgo', spec.outputHashAlgo);
  if (spec.outputHashMode !== undefined) env.set('outputHashMode', spec.outputHashMode);
  const context: string[] = [];
  for (const [p, outs] of spec.inputs ?? []) for (const o of outs) context.push(`!${o}!${p}`);
  for (const s of spec.srcs ?? []) context.push(s);
  const read = (p: string) => parseDerivationFile(p, readFileSync(store.toPhysical(p)));
  const r = derivationStrict(
    {
      name: spec.name,
      env,
      args: spec.args ?? [],
      builder: spec.builder,
      system: spec.system ?? 'x86_64-linux',
      ...(spec.outputs ? { outputs: spec.outputs } : {}),
      ...(spec.outputHash !== undefined ? { outputHash: spec.outputHash } : {}),
      ...(spec.outputHashAlgo !== undefined ? { outputHashAlgo: spec.outputHashAlgo } : {}),
      ...(spec.outputHashMode !== undefined ? { outputHashMode: spec.outputHashMode } : {}),
      context,
    },
    { hashes: new DrvHashes(read), readDerivation: read, queryReferences: (p) => store.queryReferences(p) },
  );
  const drvPath = store.addTextToStore(`${spec.name}.drv`, r.aterm, r.references);
  if (drvPath !== r.drvPath) throw new Error(`drv path mismatch: ${drvPath} vs ${r.drvPath}`);
  return { drvPath, out: r.outputPaths };
}

/** A shell builder: `/bin/sh -c SCRIPT` with PATH set to the host's coreutils. */
export function sh(name: string, script: string, extra: Partial<DrvSpec> = {}): DrvSpec {
  return { name, builder: '/bin/sh', args: ['-c', script], ...extra, env: { PATH: '/usr/bin:/bin', ...(extra.env ?? {}) } };
}

/** tsx's loader by absolute URL, so a child run in another directory finds it. */
export const TSX = import.meta.resolve('tsx');

/** Runs `imgeval ARGS` (through tsx) synchronously. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'test', 'build', 'cli-entry.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...(opts.env ?? {}) },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `imgeval ARGS` (through tsx) as a child process. */
export function spawnCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, join(ROOT, 'test', 'build', 'cli-entry.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
