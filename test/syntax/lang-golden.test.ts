// Golden tests found automatically: test/lang/parse-ok/*.img must parse, and their core AST
// (JSON, spans as offsets) must equal the `.ast.json` beside them; test/lang/parse-fail/*.img
// must be rejected with exactly the rendered errors of the `.err` beside them. Paths resolve
// against the virtual folder /pwd and `~` is /fake-home, so goldens do not depend on where the
// repository lives. UPDATE_GOLDEN=1 rewrites the goldens (review the diff before committing).
// Inputs and goldens are read when this module is imported, as the code under test is: `npm test`
// imports every test file first and runs them minutes later, and a commit made meanwhile (new
// messages + their new goldens) once made two goldens "fail" against the old, loaded parser.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderError } from '../../src/base/code-frame.js';
import { astToJSON } from '../../src/syntax/ast-json.js';
import { ROOT } from '../helpers/tools.js';
import { parseText } from './helpers.js';

const update = process.env.UPDATE_GOLDEN === '1';
const test = suite('syntax/lang-golden');

/** A golden's text as it was at import time (undefined when missing). */
function snapshot(golden: string): string | undefined {
  return existsSync(golden) ? readFileSync(golden, 'latin1') : undefined;
}

function check(golden: string, expected: string | undefined, actual: string): void {
  if (update) {
    writeFileSync(golden, actual, 'latin1');
    expected = actual;
  }
  assert.ok(expected !== undefined, `missing golden ${golden} (run with UPDATE_GOLDEN=1 and review it)`);
  assert.fixture(actual, expected);
}

for (const kind of ['parse-ok', 'parse-fail'] as const) {
  const dir = join(ROOT, 'test', 'lang', kind);
  const inputs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.img')).sort() : [];
  test(`${kind}: cases are present`, () => assert.ok(inputs.length > 0, `no .img files in ${dir}`));
  for (const f of inputs) {
    const source = readFileSync(join(dir, f)).toString('latin1');
    const base = join(dir, f.slice(0, -4));
    const golden = kind === 'parse-ok' ? `${base}.ast.json` : `${base}.err`;
    const expected = snapshot(golden);
    test(`${kind}/${f}`, () => {
      const r = parseText(source, `test/lang/${kind}/${f}`, '/pwd');
      if (kind === 'parse-ok') {
        assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => renderError(e)).join(''));
        if (r.ok) check(golden, expected, astToJSON(r.expr) + '\n');
      } else {
        assert.not.ok(r.ok, `${f} parsed but must be rejected`);
        if (!r.ok) check(golden, expected, r.errors.map((e) => renderError(e)).join(''));
      }
    });
  }
}

test.run();
