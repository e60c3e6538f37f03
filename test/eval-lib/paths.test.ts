// canonPath / baseNameOf / dirOf (src/eval/lib/paths.ts) against Nix 2.8 (paths.golden.json
// from gen-goldens.ts): `builtins.toPath` and `/. + s` for canonPath, and baseNameOf / dirOf
// on strings and on path values (which Nix canonicalises first).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isImgError } from '../../src/base/error.js';
import { baseNameOf, canonPath, dirOf } from '../../src/eval/lib/paths.js';

type Row = { p: string; value: string; type?: string };
const g = JSON.parse(readFileSync(join(import.meta.dirname, 'paths.golden.json'), 'utf8')) as Record<string, Row[]>;

const t = suite('paths goldens');
const check = (name: string, f: (p: string) => string): void => {
  const rows = g[name]!;
  t(`${name}: ${rows.length} inputs`, () => {
    const bad = rows.filter((r) => f(r.p) !== r.value).map((r) => `${JSON.stringify(r.p)}: ${JSON.stringify(f(r.p))} vs ${JSON.stringify(r.value)}`);
    assert.equal(bad, []);
  });
};
check('canonPath', canonPath);
check('pathPlus', (p) => canonPath('/' + p));
check('baseNameOf', baseNameOf);
check('dirOf', dirOf);
check('baseNameOfPath', (p) => baseNameOf(canonPath('/' + p)));
check('dirOfPath', (p) => dirOf(canonPath('/' + p)));
t('dirOf of a path value stays a path in Nix', () => {
  assert.ok(g.dirOfPath!.every((r) => r.type === 'path'));
});
t('canonPath refuses a relative path', () => {
  for (const p of ['', 'a', './a']) {
    try {
      canonPath(p);
      assert.unreachable();
    } catch (e) {
      assert.ok(isImgError(e));
      assert.is(e.code, 'E_EVAL');
      assert.ok(e.message.includes(`'${p}'`));
    }
  }
});
t.run();
