// The prelude (src/prelude/prelude.img) through imgeval and through the real Nix 2.8:
//  * cases/<name>.img evaluates to a derivation; cases/<name>.exp is the `show-derivation` JSON
//    of its closure (a reviewed run; UPDATE_GOLDEN=1 rewrites it). prelude.img is plain Nix, so
//    `nix-instantiate -E 'scopedImport (import prelude.img) case.img'` must give the same drvPath
//    (hence the same .drv closure, builders and env) as imgeval.
//  * fail/<name>.img fails with a Nix-style message; fail/<name>.err holds the message and where
//    the user's call is (from the trace); Nix fails with the same message.
//  * the globals are exactly the prelude's names, a user's binding shadows one, and fetchurl is
//    Nix's <nix/fetchurl.nix>.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgError } from '../../src/base/error.js';
import { SourceFile, formatLocation } from '../../src/base/source.js';
import { showDerivationJson } from '../../src/derivation/derivation.js';
import { ContextBuilder, coerceToString, forceDeep, printValue } from '../../src/eval/index.js';
import { Attrs } from '../../src/eval/value.js';
import { createSession, type Session } from '../../src/cli/session.js';
import { PRELUDE_NAMES, preludeFile } from '../../src/cli/prelude.js';
import { haveTool } from '../helpers/tools.js';
import { nixEnv } from '../derivation/nix-env.js';

const test = suite('prelude');
const CASES = join(import.meta.dirname, 'cases');
const FAIL = join(import.meta.dirname, 'fail');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const withNix = haveTool('nix-instantiate');
if (!withNix) console.log('\n  skip: the Nix cross-checks of test/prelude need nix-instantiate');

function withSession<T>(dir: string, f: (s: Session) => T): T {
  const root = mkdtempSync(join(tmpdir(), 'imgeval-prelude-'));
  const s = createSession({ storeRoot: root, env: {}, cwd: dir, trace: () => {} });
  try {
    return f(s);
  } finally {
    s.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Runs nix-instantiate on `scopedImport (import prelude.img) FILE` in a fresh chroot store. */
function nixInstantiate(file: string): { code: number; stdout: string; stderr: string } {
  const store = mkdtempSync(join(tmpdir(), 'imgeval-prelude-nix-'));
  try {
    const expr = `scopedImport (import ${preludeFile()}) ${file}`;
    const r = spawnSync('nix-instantiate', ['-E', expr], { env: nixEnv(store), encoding: 'latin1' });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

const names = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.img'))
    .map((f) => f.slice(0, -4))
    .sort();

for (const name of names(CASES)) {
  test(`derivation: ${name}`, () => {
    const file = join(CASES, `${name}.img`);
    const { drvPath, json } = withSession(CASES, (s) => {
      const v = s.state.importFile(latin1(file), undefined);
      assert.ok(v instanceof Attrs && v.m.get('type') !== undefined, 'a derivation');
      const drvPath = coerceToString(s.state, (v as Attrs).m.get('drvPath')!, new ContextBuilder(), false, false, undefined);
      const closure = s
        .store()
        .computeFSClosure([drvPath])
        .filter((p) => p.endsWith('.drv'));
      return { drvPath, json: showDerivationJson(closure.map((p) => ({ drvPath: p, drv: s.readDerivation(p) }))) };
    });
    const exp = join(CASES, `${name}.exp`);
    if (UPDATE || !existsSync(exp)) writeFileSync(exp, json, 'latin1');
    assert.is(json, readFileSync(exp, 'latin1'), 'show-derivation JSON of the closure');
    if (withNix) {
      const r = nixInstantiate(file);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, `${drvPath}\n`, 'nix-instantiate gives the same drvPath');
    }
  });
}

/** The message and the location of the user's call (the outermost frame in the case file). */
function describeError(e: ImgError, file: string): string {
  const inCase = [e.span, ...e.trace.map((t) => t.span)].filter((s) => s !== undefined && s.file.name === latin1(file));
  const where = inCase.length ? formatLocation(inCase[inCase.length - 1]!).replace(latin1(FAIL) + '/', '') : '(no position in the case file)';
  return `${e.message}\ncalled at ${where}\n`;
}

for (const name of names(FAIL)) {
  test(`error: ${name}`, () => {
    const file = join(FAIL, `${name}.img`);
    const err = withSession(FAIL, (s) => {
      try {
        forceDeep(s.state.importFile(latin1(file), undefined));
      } catch (e) {
        if (e instanceof ImgError) return e;
        throw e;
      }
      return undefined;
    });
    assert.ok(err, 'evaluation fails');
    assert.ok(err!.span, 'the error has a position');
    assert.match(err!.message, /^[a-zA-Z]+: '?[a-z]/, 'a Nix-style `fn: …` message');
    const text = describeError(err!, file);
    const exp = join(FAIL, `${name}.err`);
    if (UPDATE || !existsSync(exp)) writeFileSync(exp, text, 'latin1');
    assert.is(text, readFileSync(exp, 'latin1'));
    if (withNix) {
      const r = nixInstantiate(file);
      assert.is(r.code, 1, 'Nix fails too');
      const line = r.stderr.split('\n').find((l) => l.startsWith('error: '));
      assert.is(line, `error: ${err!.message}`, 'the same message under Nix');
    }
  });
}

test('the globals are the prelude set, loaded only when used, and can be shadowed', () => {
  withSession(CASES, (s) => {
    const ev = (e: string) => {
      const v = s.state.evalSource(new SourceFile('(string)', e, latin1(CASES)));
      forceDeep(v);
      return printValue(v, { strict: true });
    };
    assert.is(ev('1'), '1');
    assert.is(ev(`builtins.attrNames (import ${latin1(preludeFile())})`), `[ ${PRELUDE_NAMES.map((n) => `"${n}"`).join(' ')} ]`);
    assert.is(ev('let writeText = a: b: "mine"; in writeText 1 2'), '"mine"');
    assert.is(ev('({ runCommand }: runCommand) { runCommand = 3; }'), '3');
    assert.is(ev('(writeText "a" "b").type'), '"derivation"');
    assert.is(ev('builtins.typeOf symlinkJoin'), '"lambda"');
  });
});

test("fetchurl is Nix's <nix/fetchurl.nix>", () => {
  withSession(CASES, (s) => {
    const args = '{ url = "https://example.org/a/b.tar.gz"; sha256 = "0ssi1wpaf7plaswqqjwigppsg5fyh99vdlb9kzl7c9lng89ndq1i"; }';
    const v = s.state.evalSource(new SourceFile('(string)', `(fetchurl ${args}).drvPath == (import <nix/fetchurl.nix> ${args}).drvPath`, latin1(CASES)));
    assert.is(v, true);
  });
});

test.run();
