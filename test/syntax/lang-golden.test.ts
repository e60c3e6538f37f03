// Golden tests found automatically: test/lang/parse-ok/*.img must parse, and their core AST
// (JSON, spans as offsets) must equal the `.ast.json` beside them; test/lang/parse-fail/*.img
// must be rejected with exactly the rendered errors of the `.err` beside them. Paths resolve
// against the virtual folder /pwd and `~` is /fake-home, so goldens do not depend on where the
// repository lives. UPDATE_GOLDEN=1 rewrites the goldens (review the diff before committing).
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

function check(golden: string, actual: string): void {
  if (update) writeFileSync(golden, actual, 'latin1');
  assert.ok(existsSync(golden), `missing golden ${golden} (run with UPDATE_GOLDEN=1 and review it)`);
  assert.fixture(actual, readFileSync(golden, 'latin1'));
}

for (const kind of ['parse-ok', 'parse-fail'] as const) {
  const dir = join(ROOT, 'test', 'lang', kind);
  const inputs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.img')).sort() : [];
  test(`${kind}: cases are present`, () => assert.ok(inputs.length > 0, `no .img files in ${dir}`));
  for (const f of inputs) {
    test(`${kind}/${f}`, () => {
      const name = `test/lang/${kind}/${f}`;
      const r = parseText(readFileSync(join(dir, f)).toString('latin1'), name, '/pwd');
      const base = join(dir, f.slice(0, -4));
      if (kind === 'parse-ok') {
        assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => renderError(e)).join(''));
        if (r.ok) check(`${base}.ast.json`, astToJSON(r.expr) + '\n');
      } else {
        assert.not.ok(r.ok, `${f} parsed but must be rejected`);
        if (!r.ok) check(`${base}.err`, r.errors.map((e) => renderError(e)).join(''));
      }
    });
  }
}

test.run();
