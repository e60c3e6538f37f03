// Runs one case of the Nix language conformance corpus (../shared/conformance/nix-lang) the way
// its README describes: the suite is seen as a folder `lang/` (a symlink in a temp dir, which
// is the working directory), `.flags` are passed unchanged, NIX_PATH=lang/dir3:lang/dir4,
// TEST_VAR=foo, HOME=/fake-home. Runs in-process through the CLI's runEval.
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEval } from '../../src/cli/cmd-eval.js';
import { memoryIO } from '../../src/cli/io.js';
import { parse } from '../../src/syntax/index.js';
import { SourceFile } from '../../src/base/source.js';
import { EvalState } from '../../src/eval/index.js';
import { nodeEvalHost } from '../../src/cli/host.js';
import { SHARED } from '../helpers/tools.js';

export const SUITE = join(SHARED, 'conformance', 'nix-lang');

export interface Case {
  name: string; // e.g. eval-okay-attrs or master/eval-okay-attrs
  kind: string;
  status: string;
}

export function readManifest(): Case[] {
  const lines = readFileSync(join(SUITE, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  return lines.filter((l) => l.trim() !== '').map((l) => {
    const [name, kind, status] = l.split('\t');
    return { name: name!, kind: kind!, status: status! };
  });
}

const workDirs = new Map<string, string>();
/** A temp dir holding `lang` → the suite folder (root or master). */
function workDir(master: boolean): string {
  const key = master ? 'master' : 'root';
  let d = workDirs.get(key);
  if (!d) {
    d = realpathSync(mkdtempSync(join(tmpdir(), `imgeval-conf-${key}-`)));
    // A copy, not a symlink: `./.` in a case must be a directory (filterSource, builtins.path).
    cpSync(master ? join(SUITE, 'master') : SUITE, join(d, 'lang'), { recursive: true, verbatimSymlinks: true });
    const dir = d;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    workDirs.set(key, d);
  }
  return d;
}

export interface CaseResult {
  ok: boolean;
  detail: string;
}

function runCli(argv: string[], cwd: string, env: Record<string, string>) {
  const io = memoryIO();
  let code: number;
  try {
    const r = runEval(argv, io, { cwd, env });
    code = r.code;
    if (r.stackOverflow) io.stderr += 'error[E_STACK]: stack overflow\n  --> (no position)\n';
  } catch (e) {
    code = 70;
    io.stderr += `internal error: ${(e as Error).stack ?? e}`;
  }
  return { code, stdout: io.stdout, stderr: io.stderr };
}

export function runCase(c: Case): CaseResult {
  const master = c.name.startsWith('master/');
  const base = master ? c.name.slice('master/'.length) : c.name;
  const cwd = workDir(master);
  const file = `lang/${base}.nix`;
  const abs = join(SUITE, master ? 'master' : '', base);
  const flagsFile = `${abs}.flags`;
  const flags = existsSync(flagsFile) ? readFileSync(flagsFile, 'utf8').trim().split(/\s+/).filter(Boolean) : [];
  const env: Record<string, string> = { TEST_VAR: 'foo', HOME: '/fake-home' };
  if (c.kind === 'eval-okay') {
    env.NIX_PATH = 'lang/dir3:lang/dir4';
    const fix = (s: string) => (master ? s.split(cwd).join('/pwd') : s);
    let checked = 0;
    if (existsSync(`${abs}.exp`)) {
      const r = runCli([...flags, '--eval', '--strict', file], cwd, env);
      const exp = readFileSync(`${abs}.exp`).toString('latin1');
      const got = fix(r.stdout);
      if (r.code !== 0) return { ok: false, detail: `exit ${r.code}: ${r.stderr.slice(0, 2000)}` };
      if (got !== exp) return { ok: false, detail: `stdout differs:\n  got: ${JSON.stringify(got).slice(0, 1500)}\n  exp: ${JSON.stringify(exp).slice(0, 1500)}` };
      checked++;
    }
    if (existsSync(`${abs}.exp.xml`)) {
      const r = runCli([...flags, '--eval', '--strict', '--xml', '--no-location', file], cwd, env);
      const exp = readFileSync(`${abs}.exp.xml`).toString('latin1');
      const got = fix(r.stdout);
      if (r.code !== 0) return { ok: false, detail: `--xml exit ${r.code}: ${r.stderr.slice(0, 2000)}` };
      if (got !== exp) return { ok: false, detail: `--xml stdout differs:\n  got: ${JSON.stringify(got).slice(0, 1500)}\n  exp: ${JSON.stringify(exp).slice(0, 1500)}` };
      checked++;
    }
    return checked > 0 ? { ok: true, detail: '' } : { ok: false, detail: 'no .exp or .exp.xml' };
  }
  if (c.kind === 'eval-fail') {
    const r = runCli([...flags, '--eval', '--strict', file], cwd, env);
    if (r.code !== 1) return { ok: false, detail: `expected exit 1, got ${r.code}; stdout ${JSON.stringify(r.stdout.slice(0, 300))} ${r.stderr.slice(0, 1500)}` };
    if (!/^error\[E_[A-Z_]+\]: /m.test(r.stderr)) return { ok: false, detail: `no ImgError rendered: ${r.stderr.slice(0, 1500)}` };
    if (!/^  --> /m.test(r.stderr)) return { ok: false, detail: `error has no position: ${r.stderr.slice(0, 1500)}` };
    return { ok: true, detail: '' };
  }
  // parse-okay / parse-fail: the file must (not) parse in the global scope
  const text = readFileSync(`${abs}.nix`).toString('latin1');
  const st = new EvalState({ host: nodeEvalHost({ trace: () => {}, cwd, env }) });
  const res = parse(new SourceFile(join(cwd, file), text, join(cwd, 'lang')), { scopes: [st.globalNames], home: '/fake-home' });
  if (c.kind === 'parse-okay') return res.ok ? { ok: true, detail: '' } : { ok: false, detail: res.errors.map((e) => e.message).join('; ') };
  return res.ok ? { ok: false, detail: 'parsed, but should fail' } : { ok: true, detail: '' };
}
