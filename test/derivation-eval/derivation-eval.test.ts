// Evaluates every case of test/derivation/cases/*.nix with imgeval — in-process, through
// cli/session against a fresh temporary store, writing as `nix-instantiate --read-write-mode`
// does — and holds the result against the goldens the real Nix 2.8 wrote (gen-goldens.ts):
// the summarised value (drvPaths, output paths, strings and their contexts) byte for byte as
// `--json` prints it, the exact bytes of every `.drv` of the closure, the set of `.drv`s written,
// the narHash/references/ca of every other path (toFile, sources), Nix's warnings, and for the
// fail-* cases Nix's error message.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceFile } from '../../src/base/source.js';
import { ImgError } from '../../src/base/error.js';
import { ContextBuilder, forceDeep, printJSON } from '../../src/eval/index.js';
import { createSession } from '../../src/cli/session.js';
import { CASES, GOLDEN, SUMMARISE, listCases } from '../derivation/gen-goldens.js';

const test = suite('derivation-eval');
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

interface PathInfo {
  narHash: string;
  narSize: number;
  references: string[];
  ca: string | null;
}

let pass = 0;
let total = 0;

/** Cases that do not pass yet, with the reason; each must still fail (so a fix shows here). */
const NOT_YET: Record<string, string> = {};

for (const name of listCases()) {
  const dir = join(GOLDEN, name);
  if (!existsSync(dir)) continue;
  total++;
  test(name, () => {
    if (NOT_YET[name] !== undefined) {
      let ok = true;
      try {
        runCase();
      } catch {
        ok = false;
      }
      assert.not.ok(ok, `${name} passes now: remove it from NOT_YET in ${import.meta.filename}`);
      return;
    }
    runCase();
  });
  function runCase(): void {
    const root = mkdtempSync(join(tmpdir(), 'imgeval-drv-eval-'));
    const lines: string[] = [];
    const s = createSession({ storeRoot: root, env: {}, cwd: CASES, trace: (l) => lines.push(l), prelude: false });
    try {
      const expr = `${SUMMARISE} (import ${latin1(join(CASES, name + '.nix'))})`;
      let out: string | undefined;
      let err: ImgError | undefined;
      try {
        const v = s.state.evalSource(new SourceFile('(string)', expr, latin1(CASES)));
        forceDeep(v);
        out = printJSON(s.state, v, new ContextBuilder(), undefined);
      } catch (e) {
        if (!(e instanceof ImgError)) throw e;
        err = e;
      }
      const warnings = lines.filter((l) => l.startsWith('warning: ')).map((l) => l.slice('warning: '.length));
      const wantWarnings = existsSync(join(dir, 'warnings.txt')) ? readFileSync(join(dir, 'warnings.txt'), 'latin1').split('\n').filter(Boolean) : [];
      assert.equal(warnings, wantWarnings, 'warnings');
      if (existsSync(join(dir, 'error.txt'))) {
        const want = readFileSync(join(dir, 'error.txt'), 'latin1').trimEnd();
        assert.ok(err, `evaluates, but Nix fails with: ${want}`);
        assert.is(err!.message, want, 'error message');
        assert.ok(err!.span, 'the error has a position');
        pass++;
        return;
      }
      if (err) throw err;
      assert.is(out, readFileSync(join(dir, 'result.json'), 'latin1'), 'value (--json)');
      const store = s.store();
      const drvDir = join(dir, 'drvs');
      const want = existsSync(drvDir) ? readdirSync(drvDir).sort() : [];
      for (const f of want) {
        const p = `/nix/store/${f}`;
        assert.ok(store.isValidPath(p), `${p} is valid`);
        assert.is(readFileSync(store.toPhysical(p), 'latin1'), readFileSync(join(drvDir, f), 'latin1'), `${p}: .drv bytes`);
      }
      // The closure of the derivations the value mentions is exactly the golden one.
      const roots = [...new Set(out!.match(/\/nix\/store\/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+\.drv/g) ?? [])];
      const closure = store
        .computeFSClosure(roots)
        .filter((p) => p.endsWith('.drv'))
        .map((p) => p.slice('/nix/store/'.length));
      assert.equal(closure, want, 'the .drv closure written');
      const info = existsSync(join(dir, 'paths.json')) ? (JSON.parse(readFileSync(join(dir, 'paths.json'), 'utf8')) as Record<string, PathInfo>) : {};
      for (const [p, pi] of Object.entries(info)) {
        const got = store.queryPathInfo(p);
        assert.ok(got, `${p} is valid`);
        const j = store.pathInfoJSON([p])[0] as Record<string, unknown>;
        assert.is(j['narHash'], pi.narHash, `${p}: narHash`);
        assert.is(j['narSize'], pi.narSize, `${p}: narSize`);
        assert.equal(j['references'], pi.references, `${p}: references`);
        assert.is(j['ca'] ?? null, pi.ca, `${p}: ca`);
      }
      // Read-only (nix-instantiate --eval): the same value, computed without writing anything.
      const ro = createSession({ storeRoot: join(root, 'none'), env: {}, cwd: CASES, trace: () => {}, prelude: false, readOnly: true });
      const v2 = ro.state.evalSource(new SourceFile('(string)', expr, latin1(CASES)));
      forceDeep(v2);
      assert.is(printJSON(ro.state, v2, new ContextBuilder(), undefined), out, 'value in read-only mode');
      assert.not.ok(existsSync(join(root, 'none')), 'read-only mode created no store');
      pass++;
    } finally {
      s.close();
      rmSync(root, { recursive: true, force: true });
    }
  }
}

test.after(() => console.log(`  derivation-eval: ${pass}/${total} cases agree with Nix 2.8`));
test.run();
