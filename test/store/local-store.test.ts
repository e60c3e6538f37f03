// The local store against the real Nix 2.8: the layout and SQL schema of a new store equal what
// Nix creates; added paths equal what `nix-store --add` / `--add-fixed` and `builtins.path`
// compute; a store holding sources, flat files, text files with references, a .drv and
// built-style outputs with self-references passes the nix-db-check oracle and
// `nix-store --verify --check-contents`; `path-info --json` equals `nix path-info --json`;
// registration is one transaction; verify reports changed content as Nix does.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore, type AddToStoreOptions } from '../../src/store/local-store.js';
import { isImgError } from '../../src/base/error.js';
import { needTool } from '../helpers/tools.js';
import { cleanup, copyTree, nixDbCheck, nixIn, sampleTree, sqlite, sqliteSchema, tempDir, writeFile } from './fixtures.js';

const test = suite('store/local-store');
test.after(cleanup);

const NIX = ['nix-store', 'nix', 'nix-instantiate', 'sqlite3', 'jq'] as const;
const haveNix = (what: string): boolean => needTool(what, ...NIX);

test('a new store has the layout, schema file and SQL schema Nix 2.8 creates', () => {
  if (!haveNix('store layout vs Nix')) return;
  const d = tempDir('layout');
  const store = LocalStore.open({ root: join(d, 'ours') });
  store.close();
  writeFile(join(d, 'f'), 'x');
  nixIn(join(d, 'nix'), 'nix-store', ['--add', join(d, 'f')]);
  const ours = join(d, 'ours', 'nix/var/nix/db');
  const theirs = join(d, 'nix', 'nix/var/nix/db');
  assert.is(sqliteSchema(join(ours, 'db.sqlite')), sqliteSchema(join(theirs, 'db.sqlite')));
  assert.equal(readFileSync(join(ours, 'schema')), readFileSync(join(theirs, 'schema')));
  assert.is(readFileSync(join(ours, 'schema'), 'latin1'), '10');
  assert.is(sqlite(join(ours, 'db.sqlite'), 'pragma journal_mode'), 'wal');
  for (const f of ['big-lock', 'reserved']) {
    assert.is(statSync(join(ours, f)).size, statSync(join(theirs, f)).size, f);
    assert.is(statSync(join(ours, f)).mode & 0o777, 0o600, f);
  }
  for (const rel of ['nix/var/nix/gcroots/per-user', 'nix/var/nix/profiles/per-user', 'nix/var/nix/temproots', 'nix/store/.links', 'nix/var/nix/gc.lock']) {
    assert.ok(existsSync(join(d, 'nix', rel)), `nix has ${rel}`);
    assert.ok(existsSync(join(d, 'ours', rel)), `we have ${rel}`);
  }
  assert.ok(lstatSync(join(d, 'ours', 'nix/var/nix/gcroots/profiles')).isSymbolicLink());
  // Nix opens our fresh store without complaint.
  assert.is(nixIn(join(d, 'ours'), 'nix-store', ['--verify']).trim(), '');
});

test('addToStore computes the paths nix-store --add / --add-fixed and builtins.path compute', () => {
  if (!haveNix('addToStore vs nix-store --add')) return;
  const d = tempDir('paths');
  const tree = sampleTree(join(d, 'tree'));
  const file = writeFile(join(d, 'hello.txt'), 'hello\n');
  const exe = writeFile(join(d, 'run.sh'), '#!/bin/sh\n', 0o755);
  const store = LocalStore.open({ root: join(d, 'ours') });
  const nixRoot = join(d, 'nix');
  const cases: [string, string, AddToStoreOptions, string[]][] = [
    ['tree, recursive sha256', tree, {}, ['--add', tree]],
    ['file, recursive sha256', file, {}, ['--add', file]],
    ['executable file', exe, {}, ['--add', exe]],
    ['file, flat sha256', file, { method: 'flat' }, ['--add-fixed', 'sha256', file]],
    ['file, flat sha1', file, { method: 'flat', algo: 'sha1' }, ['--add-fixed', 'sha1', file]],
    ['file, flat sha512', file, { method: 'flat', algo: 'sha512' }, ['--add-fixed', 'sha512', file]],
    ['tree, recursive sha1', tree, { algo: 'sha1' }, ['--add-fixed', '--recursive', 'sha1', tree]],
  ];
  try {
    for (const [what, src, opts, nixArgs] of cases) {
      const p = store.addToStore(src, opts);
      assert.is(p, nixIn(nixRoot, 'nix-store', nixArgs).trim(), what);
      // Same narHash, narSize and ca as Nix registered.
      const nixInfo = JSON.parse(nixIn(nixRoot, 'nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--json', p]))[0];
      const mine = store.pathInfoJSON([p])[0]!;
      for (const k of ['narHash', 'narSize', 'ca', 'references']) assert.equal(mine[k], nixInfo[k], `${what}: ${k}`);
      // computeStorePathForPath agrees, without writing.
      const computed = store.computeStorePathForPath(src, opts);
      assert.is(computed.path, p, what);
      assert.is(computed.narHash, store.queryPathInfo(p)!.narHash, what);
    }
    // A flat executable is stored non-executable, as builtins.path does (only `nix-store
    // --add-fixed`, through addToStoreSlow, keeps the bit; the path is the same either way).
    const exeFlat = store.addToStore(exe, { method: 'flat' });
    assert.is(exeFlat, nixIn(nixRoot, 'nix-store', ['--add-fixed', 'sha256', exe]).trim());
    const bp = join(d, 'nix-bp');
    assert.is(exeFlat, JSON.parse(nixIn(bp, 'nix-instantiate', ['--read-write-mode', '--eval', '-E', `builtins.path { path = ${exe}; recursive = false; }`])));
    const bpInfo = JSON.parse(nixIn(bp, 'nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--json', exeFlat]))[0];
    assert.is(store.pathInfoJSON([exeFlat])[0]!.narHash, bpInfo.narHash);
    assert.is(lstatSync(store.toPhysical(exeFlat)).mode & 0o777, 0o444);
    // Adding again is a no-op that returns the same path.
    assert.is(store.addToStore(tree), store.computeStorePathForPath(tree).path);
    // A name, and a filter (builtins.path) against nix-instantiate.
    const filtered = store.addToStore(tree, { name: 'filtered', filter: (p, t) => !(t === 'directory' && p.endsWith('/doc')) && !p.endsWith('.bin') });
    const expr = `builtins.path { path = ${tree}; name = "filtered"; filter = p: t: !(t == "directory" && builtins.baseNameOf p == "doc") && builtins.match ".*\\\\.bin" p == null; }`;
    assert.is(filtered, JSON.parse(nixIn(join(d, 'nix2'), 'nix-instantiate', ['--eval', '-E', expr])));
    const names = readdirSync(store.toPhysical(filtered) + '/share');
    assert.equal(names.sort(), ['a.txt', 'hardlink.txt']);
  } finally {
    store.close();
  }
});

test('stored files get canonical metadata (0444/0555, dirs 0555, mtime 1)', () => {
  const d = tempDir('canon');
  const tree = sampleTree(join(d, 'tree'));
  const store = LocalStore.open({ root: join(d, 'ours') });
  const p = store.toPhysical(store.addToStore(tree));
  store.close();
  const check = (rel: string, mode: number | undefined): void => {
    const st = lstatSync(join(p, rel));
    if (mode !== undefined) assert.is(st.mode & 0o7777, mode, rel);
    assert.is(st.mtimeMs, 1000, `${rel} mtime`);
  };
  check('', 0o555);
  check('bin', 0o555);
  check('bin/hi', 0o555);
  check('bin/odd-mode', 0o555);
  check('B', 0o444);
  check('share/hardlink.txt', 0o444);
  check('bin/alias', undefined);
  check('empty', 0o555);
  assert.is(statSync(join(p, 'share/hardlink.txt')).nlink, 1);
});

/** nix-instantiate a two-output derivation into a Nix chroot store at `nixRoot`. */
function instantiate(nixRoot: string): { drvPath: string; refs: string[] } {
  const expr = `derivation { name = "app"; system = "x86_64-linux"; builder = "/bin/sh"; outputs = ["out" "dev"]; args = ["-c" "echo ${'$'}{builtins.toFile "n" "hi"} > $out"]; }`;
  const drvPath = nixIn(nixRoot, 'nix-instantiate', ['-E', expr]).trim();
  const refs = nixIn(nixRoot, 'nix-store', ['-q', '--references', drvPath]).trim().split('\n');
  return { drvPath, refs };
}

test('a .drv registers as nix-instantiate registers it (dump-db, DerivationOutputs, verify)', () => {
  if (!haveNix('.drv registration vs Nix')) return;
  const d = tempDir('drv');
  const nixRoot = join(d, 'nix');
  const { drvPath, refs } = instantiate(nixRoot);
  const store = LocalStore.open({ root: join(d, 'ours') });
  for (const r of refs) assert.is(store.addTextToStore(r.slice(44), readFileSync(join(nixRoot, r))), r);
  assert.is(store.addTextToStore('app.drv', readFileSync(join(nixRoot, drvPath)), refs), drvPath);
  const outputs = store.queryDerivationOutputs(drvPath);
  store.close();
  const nixDb = join(nixRoot, 'nix/var/nix/db/db.sqlite');
  const ourDb = join(d, 'ours/nix/var/nix/db/db.sqlite');
  const q = `select v.path, d.id, d.path from DerivationOutputs d join ValidPaths v on v.id = d.drv order by 1, 2`;
  assert.is(sqlite(ourDb, q), sqlite(nixDb, q));
  assert.is([...outputs.keys()].join(' '), 'dev out');
  // Same rows (hash, size, deriver, ca, references) as Nix wrote, time apart.
  const rows = `select path, hash, narSize, ifnull(deriver, ''), ifnull(ultimate, ''), ifnull(sigs, ''), ca from ValidPaths order by path`;
  assert.is(sqlite(ourDb, rows), sqlite(nixDb, rows));
  copyTree(join(d, 'ours'), join(d, 'copy'));
  nixIn(join(d, 'copy'), 'nix-store', ['--verify', '--check-contents']);
  assert.is(nixIn(join(d, 'copy'), 'nix-store', ['--dump-db']), nixIn(nixRoot, 'nix-store', ['--dump-db']));
});

test('a store of sources, flat and text files and built outputs passes nix-db-check and nix-store --verify', () => {
  if (!haveNix('nix-db-check on our store')) return;
  const d = tempDir('oracle');
  const tree = sampleTree(join(d, 'tree'));
  const store = LocalStore.open({ root: join(d, 'ours') });
  const src = store.addToStore(tree);
  const flat = store.addToStore(writeFile(join(d, 'blob'), 'fixed output\n'), { method: 'flat', name: 'blob.tar' });
  const note = store.addTextToStore('note', `see ${src} and ${flat}`, [src, flat]);
  const script = store.addTextToStore('script.sh', `#!/bin/sh\ncat ${note}\n`, [note]);

  // Outputs of a real derivation "built" in place: one refers to itself, the script and the
  // other output. (The .drv itself stays out of this store: nix-db-check's `nix store
  // dump-path` would try to build a .drv path instead of dumping it.)
  const { drvPath } = instantiate(join(d, 'nix'));
  const outputs = sqlite(join(d, 'nix/nix/var/nix/db/db.sqlite'), 'select path from DerivationOutputs order by id').split('\n');
  const [dev, out] = outputs as [string, string];
  const locks = store.lockPaths([out, dev]);
  try {
    store.clearInvalidPath(out);
    store.clearInvalidPath(dev);
    mkdirSync(store.toPhysical(dev) + '/include', { recursive: true });
    writeFileSync(store.toPhysical(dev) + '/include/app.h', '// no references here\n');
    mkdirSync(store.toPhysical(out) + '/bin', { recursive: true });
    writeFileSync(store.toPhysical(out) + '/bin/app', `#!${script}\n# self ${out}/bin/app\n# headers in ${dev}\n`);
    chmodSync(store.toPhysical(out) + '/bin/app', 0o755);
    const candidates = store.computeFSClosure([script, src]);
    const infos = [
      store.makeOutputInfo(out, { candidates: [...candidates, dev], deriver: drvPath }),
      store.makeOutputInfo(dev, { candidates: [...candidates, out], deriver: drvPath }),
    ];
    assert.equal(infos[0]!.references, [script, dev, out].sort());
    assert.equal(infos[1]!.references, []);
    store.registerValidPaths(infos);
  } finally {
    locks.release();
  }
  assert.equal(store.computeFSClosure([out]), [flat, note, script, src, dev, out].sort());
  assert.equal(store.queryReferrers(note), [script]);
  const order = store.topoSortPaths(store.computeFSClosure([out]));
  assert.ok(order.indexOf(src) < order.indexOf(note) && order.indexOf(note) < order.indexOf(script) && order.indexOf(script) < order.indexOf(out));
  assert.equal(store.verify(), { checked: 6, problems: [] });
  const jsonOurs = store.pathInfoJSON([out], { closure: true });
  store.close();

  const r = nixDbCheck(join(d, 'ours'));
  assert.ok(r.ok, r.out);
  assert.match(r.out, 'checked 6 paths');
  // nix-store --verify --check-contents and nix path-info on a copy (Nix rewrites what it opens).
  copyTree(join(d, 'ours'), join(d, 'copy'));
  nixIn(join(d, 'copy'), 'nix-store', ['--verify', '--check-contents']);
  const jsonNix = JSON.parse(nixIn(join(d, 'copy'), 'nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--json', '-r', out]));
  assert.equal(jsonOurs, jsonNix);
  assert.is(nixIn(join(d, 'copy'), 'nix-store', ['-q', '--deriver', out]).trim(), drvPath);
});

test('a store Nix created opens, and what we add to it Nix accepts', () => {
  if (!haveNix('opening a Nix-made store')) return;
  const d = tempDir('nix-made');
  const root = join(d, 'nix');
  const tree = sampleTree(join(d, 'tree'));
  const first = nixIn(root, 'nix-store', ['--add', writeFile(join(d, 'x'), 'x')]).trim();
  const store = LocalStore.open({ root });
  try {
    assert.ok(store.isValidPath(first));
    assert.equal(store.verify(), { checked: 1, problems: [] });
    const t = store.addToStore(tree);
    const note = store.addTextToStore('note', `${first} ${t}`, [first, t]);
    assert.equal(store.computeFSClosure([note]), [first, t, note].sort());
  } finally {
    store.close();
  }
  const r = nixDbCheck(root);
  assert.ok(r.ok, r.out);
});

test('registerValidPaths is all or nothing', () => {
  const d = tempDir('txn');
  const store = LocalStore.open({ root: join(d, 'ours') });
  try {
    const a = store.addTextToStore('a', 'a');
    const b = store.addTextToStore('b', 'b');
    const infoB = store.queryPathInfo(b)!;
    const bogus = '/nix/store/00000000000000000000000000000000-missing';
    let err: unknown;
    try {
      store.registerValidPaths([
        { ...store.queryPathInfo(a)!, references: [b] },
        { ...infoB, references: [bogus] },
      ]);
    } catch (e) {
      err = e;
    }
    assert.ok(isImgError(err), String(err));
    assert.match((err as Error).message, `its reference '${bogus}' is not valid`);
    assert.equal(store.queryReferences(a), [], 'the first update was rolled back');
    // A reference cycle (other than a self-reference) is refused, as Nix does.
    assert.throws(() => store.registerValidPaths([
      { ...store.queryPathInfo(a)!, references: [b] },
      { ...infoB, references: [a, b] },
    ]), /cycle/);
    // Not-yet-existing content is refused.
    assert.throws(() => store.registerValidPaths([{ ...infoB, path: bogus }]), /does not exist/);
  } finally {
    store.close();
  }
});

test('verify reports changed, resized and missing content, as nix-store --verify does', () => {
  if (!haveNix('verify vs nix-store --verify')) return;
  const d = tempDir('verify');
  const store = LocalStore.open({ root: join(d, 'ours') });
  const a = store.addTextToStore('a', 'original');
  const b = store.addToStore(sampleTree(join(d, 'tree')));
  const pa = store.toPhysical(a);
  chmodSync(pa, 0o644);
  writeFileSync(pa, 'changed!');
  const r = store.verify();
  store.close();
  assert.is(r.checked, 2);
  assert.is(r.problems.length, 1);
  assert.is(r.problems[0]!.kind, 'hash');
  copyTree(join(d, 'ours'), join(d, 'copy'));
  let nixMsg = '';
  try {
    nixIn(join(d, 'copy'), 'nix-store', ['--verify', '--check-contents']);
  } catch (e) {
    nixMsg = (e as Error).message;
  }
  assert.ok(nixMsg.includes(r.problems[0]!.message), `nix said: ${nixMsg}\nwe said: ${r.problems[0]!.message}`);
  void b;
});

test('user errors are ImgErrors with quoted values', () => {
  const d = tempDir('errors');
  const store = LocalStore.open({ root: join(d, 'ours') });
  try {
    const msg = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        assert.ok(isImgError(e), `not an ImgError: ${e}`);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    assert.is(msg(() => store.addToStore(join(d, 'nope'))), `getting status of '${join(d, 'nope')}': No such file or directory`);
    mkdirSync(join(d, 'dir'));
    assert.match(msg(() => store.addToStore(join(d, 'dir'), { method: 'flat' })), 'is not a regular file');
    assert.match(msg(() => store.addToStore(join(d, 'dir'), { name: 'bad name' })), "contains illegal character ' '");
    assert.match(msg(() => store.requirePathInfo('/nix/store/00000000000000000000000000000000-x')), 'is not valid');
    assert.match(msg(() => store.toPhysical('/etc/passwd')), "'/etc/passwd' is not in the Nix store");
    assert.match(msg(() => LocalStore.open({ root: join(d, 'missing'), create: false })), 'no store at');
    assert.match(msg(() => LocalStore.open({ root: '/' })), 'never writes to the real /nix');
    // Nothing was left behind in the store directory by the failed adds.
    assert.equal(readdirSync(store.realStoreDir).filter((n) => n !== '.links'), []);
  } finally {
    store.close();
  }
});

test('the store root comes from --store, IMGEVAL_STORE, then XDG_DATA_HOME', async () => {
  const { resolveStoreRoot } = await import('../../src/store/store-root.js');
  assert.is(resolveStoreRoot('/x/flag', { IMGEVAL_STORE: '/x/env' }), '/x/flag');
  assert.is(resolveStoreRoot(undefined, { IMGEVAL_STORE: '/x/env', XDG_DATA_HOME: '/x/xdg' }), '/x/env');
  assert.is(resolveStoreRoot(undefined, { XDG_DATA_HOME: '/x/xdg' }), '/x/xdg/imgeval/store');
  assert.is(resolveStoreRoot(undefined, { HOME: '/home/u' }), '/home/u/.local/share/imgeval/store');
});

test.run();
