// cli/session: which store root a session uses (--store, IMGEVAL_STORE, the XDG default), that
// the store is opened only when a store operation needs it (never in read-only mode unless it
// exists), that /nix/store paths are read from the physical root, and that a read-only session
// computes the same paths a writing one writes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceFile } from '../../src/base/source.js';
import { forceDeep, printValue } from '../../src/eval/index.js';
import { createSession, type SessionOptions } from '../../src/cli/session.js';

function withTmp<T>(f: (dir: string) => T): T {
  const d = mkdtempSync(join(tmpdir(), 'imgeval-session-'));
  try {
    return f(d);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

function evaluate(opts: SessionOptions, expr: string): string {
  const s = createSession(opts);
  try {
    const v = s.state.evalSource(new SourceFile('(string)', expr, '/'));
    forceDeep(v);
    return printValue(v, { strict: true });
  } finally {
    s.close();
  }
}

test('store root: --store, then IMGEVAL_STORE, then $XDG_DATA_HOME/imgeval/store, then ~/.local/share', () => {
  withTmp((d) => {
    const trace = () => {};
    assert.is(createSession({ storeRoot: join(d, 'flag'), env: { IMGEVAL_STORE: join(d, 'env') }, trace }).storeRoot, join(d, 'flag'));
    assert.is(createSession({ env: { IMGEVAL_STORE: join(d, 'env'), XDG_DATA_HOME: join(d, 'xdg') }, trace }).storeRoot, join(d, 'env'));
    assert.is(createSession({ env: { XDG_DATA_HOME: join(d, 'xdg'), HOME: d }, trace }).storeRoot, join(d, 'xdg/imgeval/store'));
    assert.is(createSession({ env: { HOME: d }, trace }).storeRoot, join(d, '.local/share/imgeval/store'));
    // Creating a session touches nothing.
    assert.not.ok(existsSync(join(d, 'flag')) || existsSync(join(d, 'env')) || existsSync(join(d, 'xdg')));
  });
});

test('pure evaluation never opens the store; a store operation in a writing session creates it', () => {
  withTmp((d) => {
    const root = join(d, 'store');
    assert.is(evaluate({ storeRoot: root, env: {}, trace: () => {} }, '1 + 1'), '2');
    assert.not.ok(existsSync(root));
    const p = evaluate({ storeRoot: root, env: {}, trace: () => {} }, 'builtins.toFile "hello.txt" "hello\\n"');
    assert.is(p, '"/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt"');
    assert.ok(existsSync(join(root, 'nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt')));
  });
});

test('read-only: the same paths, nothing written; /nix/store reads come from the physical root', () => {
  withTmp((d) => {
    const root = join(d, 'store');
    const expr = '[ (builtins.toFile "hello.txt" "hello\\n") (derivation { name = "x"; system = "x86_64-linux"; builder = "/bin/sh"; }).drvPath ]';
    const ro = evaluate({ storeRoot: root, env: {}, trace: () => {}, readOnly: true }, expr);
    assert.not.ok(existsSync(root));
    assert.is(evaluate({ storeRoot: root, env: {}, trace: () => {} }, expr), ro);
    // Now that the store holds the file, a read-only session reads it from the root.
    assert.is(
      evaluate({ storeRoot: root, env: {}, trace: () => {}, readOnly: true }, 'builtins.readFile /nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt'),
      '"hello\\n"',
    );
    assert.is(evaluate({ storeRoot: root, env: {}, trace: () => {}, readOnly: true }, 'builtins.pathExists /nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-nope'), 'false');
  });
});

test('spanOf: where a derivation was defined', () => {
  withTmp((d) => {
    const s = createSession({ storeRoot: join(d, 's'), env: {}, trace: () => {}, readOnly: true });
    const v = s.state.evalSource(new SourceFile('(string)', 'let x = 1; in (derivation {\n  name = "x"; system = "x86_64-linux"; builder = "/bin/sh"; }).drvPath', '/'));
    forceDeep(v);
    const drvPath = printValue(v, { strict: true }).slice(1, -1);
    const sp = s.spanOf(drvPath);
    assert.ok(sp, 'a span');
    assert.is(sp!.file.position(sp!.start).line, 2);
  });
});

test.run();
