// `imgeval parse`: exit 0 and (with --json) the AST for valid input, 1 with rendered errors on
// stderr for invalid input, 2 for bad usage; files are read as bytes and their relative paths
// resolve against their own folder.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

const test = suite('syntax/cli-parse');

test('-E with a valid expression exits 0 and prints nothing', async () => {
  const io = memoryIO();
  assert.is(await main(['parse', '-E', 'let a = 1; in a + 2'], io), 0);
  assert.is(io.stdout, '');
  assert.is(io.stderr, '');
});

test('--json prints the core AST with offset spans', async () => {
  const io = memoryIO();
  assert.is(await main(['parse', '--json', '-E', '[ 1 9223372036854775807 ]'], io), 0);
  const ast = JSON.parse(io.stdout) as { kind: string; span: number[]; items: { value: number }[] };
  assert.is(ast.kind, 'List');
  assert.equal(ast.span, [0, 25]);
  assert.ok(io.stdout.includes('9223372036854775807'), 'int64 printed exactly');
});

test('errors exit 1 with every error rendered on stderr', async () => {
  const io = memoryIO();
  assert.is(await main(['parse', '-E', '[ a b ]'], io), 1);
  assert.ok(io.stderr.includes("error[E_UNDEFINED_VAR]: undefined variable 'a'"), io.stderr);
  assert.ok(io.stderr.includes("undefined variable 'b'"), io.stderr);
  assert.ok(io.stderr.includes('(string):1:3'), io.stderr);
  const io2 = memoryIO();
  assert.is(await main(['parse', '-E', '{ a = 1 }'], io2), 1);
  assert.ok(io2.stderr.includes("syntax error, unexpected '}', expecting ';'"), io2.stderr);
});

test('bad usage exits 2', async () => {
  const io = memoryIO();
  assert.is(await main(['parse'], io), 2);
  assert.is(await main(['parse', '--nope', 'x'], memoryIO()), 2);
  assert.is(await main(['parse', 'a', 'b'], memoryIO()), 2);
});

test('a file: latin1 bytes, paths relative to its folder, name as given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imgeval-parse-'));
  try {
    const file = join(dir, 'x.img');
    writeFileSync(file, Buffer.from('{ p = ./sub/f; s = "h\u00c3\u00a9"; }', 'latin1'));
    const io = memoryIO();
    assert.is(await main(['parse', '--json', file], io), 0);
    const ast = JSON.parse(io.stdout) as { attrs: { value: { value: string } }[] };
    assert.is(ast.attrs[0]!.value.value, `${dir}/sub/f`);
    assert.is(ast.attrs[1]!.value.value, 'h\u00c3\u00a9');
    writeFileSync(file, 'x: y');
    const io2 = memoryIO();
    assert.is(await main(['parse', file], io2), 1);
    assert.ok(io2.stderr.includes(`${file}:1:4`), io2.stderr);
    const io3 = memoryIO();
    assert.is(await main(['parse', join(dir, 'missing.img')], io3), 1);
    assert.ok(io3.stderr.includes('does not exist'), io3.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
