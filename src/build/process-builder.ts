// build/process-builder: runs a derivation whose builder is a program (e.g. /bin/sh) with execa,
// inside the sandbox namespace (see sandbox.ts), with the environment Nix 2.8 gives builders
// (initEnv: PATH=/path-not-set, HOME=/homeless-shelter, NIX_STORE, NIX_BUILD_CORES, the
// derivation's env with passAsFile, NIX_BUILD_TOP/TMPDIR/TEMPDIR/TMP/TEMP/PWD, NIX_LOG_FD=2,
// TERM=xterm-256color, and the impureEnvVars of fixed-output derivations). Its stdout and stderr
// go to the build log. Never hashes or registers outputs.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ImgError } from '../base/error.js';
import { sha256, toNixBase32 } from '../base/hash.js';
import { fixedOutput, type Derivation } from '../derivation/derivation.js';
import { STORE_DIR } from '../derivation/store-path.js';
import type { BuildLog } from './build-log.js';
import { sandbox, sandboxScript } from './sandbox.js';

export interface ProcessBuildSpec {
  drvPath: string;
  drv: Derivation;
  /** Physical directory mounted on /nix/store (holds the input mount points; outputs appear here). */
  storeView: string;
  /** Input closure: physical location and base name of each store path to show. */
  inputs: { physical: string; base: string }[];
  /** Physical directory mounted on /tmp; it contains `buildTopName`. */
  buildRoot: string;
  /** Name of the build directory below /tmp (`nix-build-<name>-0`). */
  buildTopName: string;
  /** Where the wrapper script is written (outside what the builder sees). */
  scriptFile: string;
  cores: number;
  log: BuildLog;
  signal: AbortSignal;
  /** The host environment (impureEnvVars of fixed-output derivations come from it). */
  hostEnv: NodeJS.ProcessEnv;
}

/** Byte string (latin1) → the JS string whose UTF-8 encoding is those bytes (lossy when not UTF-8). */
function toOs(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** The builder's environment as Nix's initEnv makes it (values as byte strings). */
export function builderEnv(drv: Derivation, opts: { buildTop: string; cores: number; hostEnv: NodeJS.ProcessEnv; writeAttrFile: (name: string, contents: string) => string }): Map<string, string> {
  const env = new Map<string, string>();
  env.set('PATH', '/path-not-set');
  env.set('HOME', '/homeless-shelter');
  env.set('NIX_STORE', STORE_DIR);
  env.set('NIX_BUILD_CORES', String(opts.cores));
  const passAsFile = new Set((drv.env.get('passAsFile') ?? '').split(/[ \t\n]+/).filter((w) => w !== ''));
  for (const [k, v] of drv.env) {
    if (passAsFile.has(k)) {
      const file = `.attr-${toNixBase32(sha256(Buffer.from(k, 'latin1')))}`;
      env.set(`${k}Path`, opts.writeAttrFile(file, v));
    } else env.set(k, v);
  }
  for (const k of ['NIX_BUILD_TOP', 'TMPDIR', 'TEMPDIR', 'TMP', 'TEMP', 'PWD']) env.set(k, opts.buildTop);
  if (fixedOutput(drv)) {
    for (const k of (drv.env.get('impureEnvVars') ?? '').split(/[ \t\n]+/).filter((w) => w !== '')) {
      const v = opts.hostEnv[k];
      if (v !== undefined) env.set(k, Buffer.from(v, 'utf8').toString('latin1'));
    }
  }
  env.set('NIX_LOG_FD', '2');
  env.set('TERM', 'xterm-256color');
  return env;
}

/** Runs the builder; resolves when it exits 0, throws ImgError (E_BUILD) otherwise. */
export async function runProcessBuilder(spec: ProcessBuildSpec): Promise<void> {
  if (spec.drv.env.has('__json')) {
    throw new ImgError('E_BUILD', `derivation '${spec.drvPath}' uses structured attributes (__structuredAttrs), which process builders do not support yet`, undefined, [
      { message: 'built-in builders get the attributes as the JSON string in env `__json`' },
    ]);
  }
  const sb = sandbox();
  const buildTop = `/tmp/${spec.buildTopName}`;
  const physicalTop = join(spec.buildRoot, spec.buildTopName);
  const env = builderEnv(spec.drv, {
    buildTop,
    cores: spec.cores,
    hostEnv: spec.hostEnv,
    writeAttrFile: (name, contents) => {
      writeFileSync(join(physicalTop, name), Buffer.from(contents, 'latin1'), { mode: 0o600 });
      return `${buildTop}/${name}`;
    },
  });
  writeFileSync(
    spec.scriptFile,
    sandboxScript(sb, { storeView: spec.storeView, inputs: spec.inputs, buildRoot: spec.buildRoot, buildTop, stackLimit: spec.hostEnv.IMGEVAL_OS_STACK }),
  );
  const osEnv: Record<string, string> = {};
  for (const [k, v] of env) osEnv[toOs(k)] = toOs(v);
  const [cmd, ...pre] = sb.prefix;
  const child = execa(cmd!, [...pre, sb.sh, spec.scriptFile, toOs(spec.drv.builder), ...spec.drv.args.map(toOs)], {
    env: osEnv,
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cancelSignal: spec.signal,
    forceKillAfterDelay: 2000,
    cwd: spec.buildRoot,
  });
  child.stdout?.on('data', (c: Buffer) => spec.log.write(c));
  child.stderr?.on('data', (c: Buffer) => spec.log.write(c));
  const r = await child;
  if (r.isCanceled) throw new ImgError('E_BUILD', `builder for '${spec.drvPath}' was cancelled`);
  if (r.exitCode !== 0) {
    const how = r.signal ? `was killed by signal ${r.signal}` : `failed with exit code ${r.exitCode}`;
    throw new ImgError('E_BUILD', `builder for '${spec.drvPath}' ${how}`);
  }
}
