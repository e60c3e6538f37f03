// Helpers for image-build tests, examples and the bench: evaluate an .img file (or expression)
// in a session over a given store root, realise the derivations it returns with the image
// builders registered, and run the shared oracles (image-check, nix-db-check) on the results.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SourceFile } from '../../src/base/source.js';
import { DEFAULT_BUILTINS } from '../../src/build/builtins/index.js';
import { realise, type RealiseOptions } from '../../src/build/scheduler.js';
import { createSession, type Session } from '../../src/cli/session.js';
import { Attrs, force, strOf, isString, type Value } from '../../src/eval/value.js';
import type { SearchPathEntry } from '../../src/eval/index.js';
import { IMAGE_BUILDERS, streamLayeredImage } from '../../src/image/builders/index.js';
import { ORACLES } from '../helpers/tools.js';

export const BUILTINS = DEFAULT_BUILTINS.with(IMAGE_BUILDERS);
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

export interface Built {
  /** Attribute path ('' for a single derivation) → what was built. */
  readonly drvPath: string;
  readonly outPath: string;
  /** Physical location of the output. */
  readonly physical: string;
  readonly imageName?: string;
  readonly imageTag?: string;
  readonly conf?: string;
}

function str(v: Value): string {
  if (!isString(v)) throw new Error(`expected a string, got ${typeof v}`);
  return strOf(v);
}
function isDrv(v: Value): v is Attrs {
  return v instanceof Attrs && v.m.has('drvPath');
}

export function tempStore(prefix = 'imgeval-ib-'): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => { spawnSync('chmod', ['-R', 'u+w', root]); rmSync(root, { recursive: true, force: true }); } };
}

export function openSession(storeRoot: string, searchPath: SearchPathEntry[] = []): Session {
  return createSession({ storeRoot, trace: () => {}, searchPath, env: { ...process.env, IMGEVAL_STORE: storeRoot } });
}

/** Evaluates `file` (or `expr`) and builds the derivation(s) it yields: one, or a set of them (by name). */
export async function buildImg(
  storeRoot: string,
  src: { file?: string; expr?: string; dir?: string; searchPath?: SearchPathEntry[] },
  opts: RealiseOptions = {},
): Promise<Map<string, Built>> {
  const session = openSession(storeRoot, src.searchPath);
  try {
    const st = session.state;
    const file = src.file
      ? new SourceFile(latin1(resolve(src.file)), readFileSync(src.file).toString('latin1'), latin1(dirname(resolve(src.file))))
      : new SourceFile('(string)', src.expr!, latin1(src.dir ?? process.cwd()));
    const v = force(st.evalSource(file));
    const drvs = new Map<string, Attrs>();
    if (isDrv(v)) drvs.set('', v);
    else if (v instanceof Attrs) for (const n of v.names()) {
      const x = force(v.m.get(n)!);
      if (isDrv(x)) drvs.set(n, x);
    }
    const infos = new Map<string, { drvPath: string; outPath: string; imageName?: string; imageTag?: string; conf?: string }>();
    for (const [n, d] of drvs) {
      const get = (k: string) => (d.m.has(k) ? force(d.m.get(k)!) : undefined);
      const conf = get('conf');
      infos.set(n, {
        drvPath: str(get('drvPath')!),
        outPath: str(get('outPath')!),
        ...(get('imageName') !== undefined ? { imageName: str(get('imageName')!) } : {}),
        ...(get('imageTag') !== undefined ? { imageTag: str(get('imageTag')!) } : {}),
        ...(conf instanceof Attrs ? { conf: str(force(conf.m.get('outPath')!)) } : {}),
      });
    }
    const store = session.store();
    await realise(store, [...infos.values()].map((i) => ({ drvPath: i.drvPath })), { builtins: BUILTINS, jobs: 2, ...opts });
    const out = new Map<string, Built>();
    for (const [n, i] of infos) out.set(n, { ...i, physical: store.toPhysical(i.outPath) });
    return out;
  } finally {
    session.close();
  }
}

/** Streams a streamLayeredImage's archive (its conf) into a file, as `./result > file` would. */
export async function streamToFile(storeRoot: string, conf: string, file: string): Promise<void> {
  const session = openSession(storeRoot);
  try {
    const store = session.store();
    const { openSync, closeSync, writeSync } = await import('node:fs');
    const fd = openSync(file, 'w');
    try {
      await streamLayeredImage(store.toPhysical(conf), { storeDir: store.storeDir, toPhysical: (p) => store.toPhysical(p) }, {
        write(c) {
          let off = 0;
          while (off < c.length) off += writeSync(fd, c, off, c.length - off);
        },
      }, mkdtempSync(join(tmpdir(), 'imgeval-stream-')));
    } finally {
      closeSync(fd);
    }
  } finally {
    session.close();
  }
}

/** Runs ../shared/oracles/image-check; returns its output and whether it passed. */
export function imageCheck(archive: string, ref: string, command: string[] = []): { ok: boolean; output: string } {
  const r = spawnSync(join(ORACLES, 'image-check'), [archive, ref, ...(command.length ? ['--', ...command] : [])], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && output.includes('IMAGE CHECK: PASS'), output };
}

export function nixDbCheck(rootfs: string): { ok: boolean; output: string } {
  const r = spawnSync(join(ORACLES, 'nix-db-check'), [rootfs], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && output.includes('NIX DB CHECK: PASS'), output };
}

/** Lists a tar's members with `tar -tvf` (GNU tar), one line each. */
export function tarList(archive: string, member?: string): string[] {
  const args = member ? ['-xOf', archive, member] : ['-tf', archive];
  const r = spawnSync('tar', args, { encoding: 'latin1', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}
export function tarCat(archive: string, member: string): Buffer {
  const r = spawnSync('tar', ['-xOf', archive, member], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tar -xOf ${archive} ${member}: ${r.stderr}`);
  return r.stdout;
}
