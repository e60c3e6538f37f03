// Writes the derivation goldens from the real Nix 2.8: for every test/derivation/cases/<name>.nix
// it evaluates the case with `nix-instantiate --eval --strict --json --read-write-mode` against
// a fresh private chroot store (nothing touches the real /nix) and records, under
// test/derivation/golden/<name>/:
//   result.json            the case's value, summarised (derivations → {drvPath, outputs}, strings →
//                          {string, context}), as Nix printed it
//   drvs/<base>.drv        the exact bytes of every derivation in the closure
//   show-derivation.json   `nix show-derivation -r` of the top-level derivations
//   paths.json             path-info (narHash, narSize, references, ca) of every path in the closure
//   nars/<base>.nar        the NAR of every non-derivation path in the closure (toFile, sources)
//   warnings.txt           Nix's warnings, when there are any
//   error.txt              for a case that fails: Nix's error message (first line)
// Usage: `node --import tsx test/derivation/gen-goldens.ts [case…]` rewrites the named cases (or
// all with UPDATE_GOLDEN=1, or only the missing ones otherwise).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/tools.js';
import { freshStore, nixEnv } from './nix-env.js';

export const CASES = join(ROOT, 'test/derivation/cases');
export const GOLDEN = join(ROOT, 'test/derivation/golden');

export function listCases(): string[] {
  return readdirSync(CASES)
    .filter((f) => f.endsWith('.nix'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** The Nix function applied to each case to print its value as stable JSON (used by the evaluator tests too). */
export const SUMMARISE = `
let
  summarise = v:
    if builtins.isAttrs v then
      (if v ? type && v.type == "derivation" then
        { drvPath = v.drvPath; outputs = builtins.listToAttrs (map (o: { name = o.outputName; value = o.outPath; }) v.all); }
       else builtins.mapAttrs (n: summarise) v)
    else if builtins.isList v then map summarise v
    else if builtins.isString v then { string = v; context = builtins.getContext v; }
    else v;
in summarise`;

function run(cmd: string, args: string[], store: string): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { env: nixEnv(store), maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

function must(r: { status: number; stdout: Buffer; stderr: string }, what: string): Buffer {
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return r.stdout;
}

/** Every /nix/store path string in a JSON value. */
function storePathsIn(v: unknown, out: Set<string>): Set<string> {
  if (typeof v === 'string') {
    for (const m of v.matchAll(/\/nix\/store\/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+/g)) out.add(m[0]);
  } else if (Array.isArray(v)) v.forEach((x) => storePathsIn(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      storePathsIn(k, out);
      storePathsIn(x, out);
    }
  }
  return out;
}

export function generateGolden(name: string): void {
  const store = freshStore();
  const dir = join(GOLDEN, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const expr = `${SUMMARISE} (import ${join(CASES, name + '.nix')})`;
    const r = run('nix-instantiate', ['--eval', '--strict', '--json', '--read-write-mode', '-E', expr], store);
    const warnings = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('warning: '))
      .map((l) => l.slice('warning: '.length));
    if (warnings.length) writeFileSync(join(dir, 'warnings.txt'), warnings.join('\n') + '\n');
    if (r.status !== 0) {
      const line = r.stderr.split('\n').find((l) => l.startsWith('error: '));
      if (!line) throw new Error(`nix-instantiate failed without an error line: ${r.stderr}`);
      if (!name.startsWith('fail-')) throw new Error(`case '${name}' fails under Nix (only fail-* cases may): ${line}`);
      writeFileSync(join(dir, 'error.txt'), line.slice('error: '.length) + '\n');
      return;
    }
    if (name.startsWith('fail-')) throw new Error(`case '${name}' should fail under Nix but evaluates`);
    writeFileSync(join(dir, 'result.json'), r.stdout);
    const roots = [...storePathsIn(JSON.parse(r.stdout.toString('utf8')), new Set())].filter((p) =>
      existsSync(join(store, p)),
    );
    if (roots.length === 0) return;
    const closure = must(run('nix-store', ['-qR', ...roots], store), 'nix-store -qR').toString().trim().split('\n').sort();
    const drvs = closure.filter((p) => p.endsWith('.drv'));
    const others = closure.filter((p) => !p.endsWith('.drv'));
    mkdirSync(join(dir, 'drvs'));
    for (const p of drvs) writeFileSync(join(dir, 'drvs', p.slice('/nix/store/'.length)), readFileSync(join(store, p)));
    if (others.length) {
      mkdirSync(join(dir, 'nars'));
      for (const p of others) {
        const nar = must(run('nix-store', ['--dump', join(store, p)], store), 'nix-store --dump');
        writeFileSync(join(dir, 'nars', p.slice('/nix/store/'.length) + '.nar'), nar);
      }
    }
    const info: Record<string, unknown> = {};
    const pathInfo = (paths: string[], extra: string[]) => {
      if (!paths.length) return;
      const out = must(run('nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--json', ...extra, ...paths], store), 'nix path-info');
      for (const e of JSON.parse(out.toString('utf8')) as Record<string, unknown>[]) {
        const { path, narHash, narSize, references, ca, deriver } = e as Record<string, unknown>;
        info[path as string] = { narHash, narSize, references, ca: ca ?? null, deriver: deriver ?? null };
      }
    };
    pathInfo(drvs, ['--derivation']);
    pathInfo(others, []);
    const sorted = Object.fromEntries(Object.keys(info).sort().map((k) => [k, info[k]]));
    writeFileSync(join(dir, 'paths.json'), JSON.stringify(sorted, null, 2) + '\n');
    const topDrvs = roots.filter((p) => p.endsWith('.drv'));
    if (topDrvs.length) {
      const show = must(run('nix', ['--extra-experimental-features', 'nix-command', 'show-derivation', '-r', ...topDrvs], store), 'nix show-derivation');
      writeFileSync(join(dir, 'show-derivation.json'), show);
    }
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

/** Generates the goldens that are missing (or all of them with UPDATE_GOLDEN=1). */
export function ensureGoldens(): string[] {
  const done: string[] = [];
  for (const c of listCases()) {
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(join(GOLDEN, c))) {
      generateGolden(c);
      done.push(c);
    }
  }
  return done;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const named = process.argv.slice(2);
  const done = named.length ? (named.forEach(generateGolden), named) : ensureGoldens();
  console.log(`wrote ${done.length} golden(s)${done.length ? ': ' + done.join(' ') : ''}`);
}
