// Import from derivation through the session: reading an output that is not built yet runs a
// child `imgeval build` (write sessions), and is a clear error in read-only evaluation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImgError } from '../../src/base/error.js';
import { SourceFile } from '../../src/base/source.js';
import { forceDeep, printValue } from '../../src/eval/index.js';
import { createSession } from '../../src/cli/session.js';

function evaluate(expr: string, readOnly: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'imgeval-ifd-'));
  const s = createSession({ storeRoot: root, env: { PATH: process.env.PATH }, cwd: root, trace: () => {}, readOnly });
  try {
    const v = s.state.evalSource(new SourceFile('(string)', expr, root));
    forceDeep(v);
    return printValue(v, { strict: true });
  } finally {
    s.close();
    rmSync(root, { recursive: true, force: true });
  }
}

test('readFile and import of derivation outputs build them first', () => {
  assert.is(
    evaluate('[ (builtins.readFile (writeText "a.txt" "hello")) (import (writeText "n.nix" "1 + 2")) (builtins.readFile "${writeTextDir "x/y" "deep"}/x/y") ]', false),
    '[ "hello" 3 "deep" ]',
  );
});

test('read-only evaluation refuses to build, with a hint', () => {
  try {
    evaluate('builtins.readFile (writeText "a.txt" "hello")', true);
    assert.unreachable('should fail');
  } catch (e) {
    assert.ok(e instanceof ImgError);
    assert.match((e as ImgError).message, /^reading '\/nix\/store\/[0-9a-z]{32}-a\.txt\.drv!out' needs building it \(import from derivation\)/);
    assert.ok((e as ImgError).span, 'with a position');
  }
});

test.run();
