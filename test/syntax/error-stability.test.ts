// Syntax error messages do not depend on what the process parsed before: the messages for
// every test/lang/parse-fail case and a set of error-path inputs are computed after the parser
// was driven out of stack at many depths (inside Chevrotain's rules, lookahead building and
// error-path computation) and after a fresh parser replaced a reset one, and compared with the
// messages of a fresh process that parsed nothing else. (The "lost `expecting …`" flake of the
// full `npm test` run was not parser state but a commit made during the run: see
// lang-golden.test.ts.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/tools.js';
import { parseText } from './helpers.js';

const test = suite('syntax/error-stability');

const dir = join(ROOT, 'test', 'lang', 'parse-fail');
const inputs = [
  ...readdirSync(dir)
    .filter((f) => f.endsWith('.img'))
    .sort()
    .map((f) => readFileSync(join(dir, f)).toString('latin1')),
  '}',
  '1 + with {}; 2',
  '{ a = 1; b }',
  'x: y: ',
  '[ 1 2',
  '{ a, b ? }: a',
  'f (',
  '"${}"',
  './a/${',
  'let in',
  'inherit a;',
];

/** The messages of every input, one line each (what a parse of it reports). */
function messages(): string {
  return inputs.map((s) => {
    const r = parseText(s, '(t)', '/pwd');
    return r.ok ? 'ok' : r.errors.map((e) => e.message).join(' | ');
  }).join('\n');
}

function atDepth(d: number, f: () => void): void {
  if (d === 0) f();
  else atDepth(d - 1, f);
}

const DEEP = ['('.repeat(5000) + '1' + ')'.repeat(5000), '['.repeat(20000), 'x: '.repeat(20000) + 'x', '{a='.repeat(5000), '{ a = ' + '[ '.repeat(8000), '1 + ' + '!'.repeat(30000)];

test('messages after stack overflows at many depths equal those of a fresh process', () => {
  const script = [
    "import { parse } from './src/syntax/parse.js';",
    "import { SourceFile } from './src/base/source.js';",
    "import { NIX_2_8_GLOBAL_NAMES } from './src/syntax/globals.js';",
    `const inputs = ${JSON.stringify(inputs)};`,
    "const out = inputs.map((s) => { const r = parse(new SourceFile('(t)', s, '/pwd'), { scopes: [NIX_2_8_GLOBAL_NAMES], home: '/fake-home' }); return r.ok ? 'ok' : r.errors.map((e) => e.message).join(' | '); });",
    "process.stdout.write(out.join('\\n'));",
  ].join('\n');
  const fresh = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT }).toString('latin1');
  assert.ok(fresh.includes('expecting an expression'), fresh);
  assert.fixture(messages(), fresh);
  // Overflow the stack while parsing, starting from many depths, so that the RangeError hits
  // different places; each time, the next messages must still be the fresh process's.
  for (let d = 0; d < 2400; d += 150) {
    for (const src of DEEP) {
      atDepth(d, () => {
        const r = parseText(src);
        assert.not.ok(r.ok);
      });
    }
    assert.fixture(messages(), fresh, `after overflows from depth ${d}`);
  }
});

test.run();
