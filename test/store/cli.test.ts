// `imgeval store …` through the CLI's main(): add prints the path nix-store --add prints,
// path-info (text, -r, --json) and verify and gc and roots print what the store holds, a result
// link works as a PATH argument; exit codes 0 (ok), 1 (user error, rendered without a stack), 2
// (usage).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { LocalStore } from '../../src/store/local-store.js';
import { needTool } from '../helpers/tools.js';
import { cleanup, nixIn, sampleTree, tempDir } from './fixtures.js';

const test = suite('store/cli');
test.after(cleanup);

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

test('store add, path-info, verify, roots, gc', async () => {
  const d = tempDir('cli');
  const S = join(d, 'store');
  const tree = sampleTree(join(d, 'tree'));
  const file = join(d, 'hello.txt');
  writeFileSync(file, 'hello\n');
  const added = await run('store', 'add', '--store', S, tree);
  assert.is(added.code, 0, added.err);
  const treePath = added.out.trim();
  const flat = await run('store', 'add', file, '--flat', '--name', 'greeting', '--store', S);
  assert.is(flat.code, 0, flat.err);
  if (needTool('store add vs nix-store --add', 'nix-store')) {
    assert.is(treePath, nixIn(join(d, 'nix'), 'nix-store', ['--add', tree]).trim());
  }
  // A text path referring to the tree, and a result link to it.
  const store = LocalStore.open({ root: S });
  const note = store.addTextToStore('note', `uses ${treePath}`, [treePath]);
  const link = store.addPermRoot(note, join(d, 'result'));
  store.close();

  const info = await run('store', 'path-info', '--store', S, '-r', link);
  assert.is(info.code, 0, info.err);
  assert.is(info.out, [note, treePath].sort().join('\n') + '\n');
  const json = await run('store', 'path-info', '--store', S, '--json', note);
  const parsed = JSON.parse(json.out);
  assert.is(parsed.length, 1);
  assert.equal(parsed[0].references, [treePath]);
  assert.match(parsed[0].narHash, /^sha256-/);
  const sized = await run('store', 'path-info', '--store', S, '-s', `${S}/nix/store/${note.slice(11)}`);
  assert.match(sized.out, new RegExp(`^${note}\\s+\\d+\\n$`));

  const verify = await run('store', 'verify', '--store', S);
  assert.is(verify.code, 0, verify.err);
  assert.is(verify.out, 'checked 3 paths: ok\n');
  const roots = await run('store', 'roots', '--store', S);
  assert.is(roots.out, `${link} -> ${note}\n`);

  const dry = await run('store', 'gc', '--store', S, '--dry-run');
  assert.is(dry.code, 0);
  assert.match(dry.out, '1 store paths would be deleted');
  const gc = await run('store', 'gc', '--store', S);
  assert.match(gc.out, '1 store paths deleted');
  assert.match(gc.out, `-greeting'`);

  // A corrupted path: verify exits 1 and says which.
  const p = `${S}/nix/store/${note.slice(11)}`;
  chmodSync(p, 0o644);
  writeFileSync(p, 'tampered');
  const bad = await run('store', 'verify', '--store', S);
  assert.is(bad.code, 1);
  assert.match(bad.err, `path '${note}' was modified!`);
});

test('exit codes: usage errors 2, user errors 1 without a stack trace', async () => {
  const d = tempDir('cli-err');
  const S = join(d, 'store');
  assert.is((await run('store')).code, 2);
  assert.is((await run('store', 'frobnicate')).code, 2);
  assert.is((await run('store', 'add', '--store', S)).code, 2);
  assert.is((await run('store', 'add', '--bogus', 'x')).code, 2);
  assert.is((await run('store', 'add', '--store', S, join(d, 'a'), '--algo', 'crc32')).code, 2);
  const missing = await run('store', 'add', '--store', S, join(d, 'nope'));
  assert.is(missing.code, 1);
  assert.match(missing.err, `getting status of '${join(d, 'nope')}'`);
  assert.not.match(missing.err, /\n\s+at /);
  const notValid = await run('store', 'path-info', '--store', S, '/nix/store/00000000000000000000000000000000-x');
  assert.is(notValid.code, 1);
  assert.match(notValid.err, 'is not valid');
  const noStore = await run('store', 'verify', '--store', join(d, 'none'));
  assert.is(noStore.code, 1);
  assert.match(noStore.err, 'no store at');
  const help = await run('store', '--help');
  assert.is(help.code, 0);
  assert.match(help.out, 'path-info');
});

test.run();
