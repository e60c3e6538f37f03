// NAR hashing throughput: derivation/nar's narHash over store/fs-reader against the real
// `nix-hash --type sha256` (same NAR, same sha256) and `tar -c | sha256sum` on the same tree,
// measured in the same run. Tree: one 192 MiB file + 4000 small files in nested dirs.
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { narHash } from '../src/derivation/nar.js';
import { nodeFsReader } from '../src/store/fs-reader.js';
import { toHex } from '../src/base/hash.js';

const dir = mkdtempSync(join(tmpdir(), 'imgeval-narbench-'));
const root = join(dir, 'tree');
try {
  mkdirSync(root);
  const big = Buffer.alloc(192 * 1024 * 1024);
  randomFillSync(big);
  writeFileSync(join(root, 'big.bin'), big);
  let small = 0;
  for (let d = 0; d < 40; d++) {
    const sub = join(root, `d${d}`, 'nested');
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) {
      const b = Buffer.alloc(((d * 100 + f) * 37) % 9000);
      randomFillSync(b);
      writeFileSync(join(sub, `f${f}.txt`), b);
      small += b.length;
    }
  }
  const bytes = big.length + small;
  const time = (fn: () => string): { ms: number; out: string } => {
    fn(); // warm the page cache
    const t = performance.now();
    const out = fn();
    return { ms: performance.now() - t, out };
  };
  const mine = time(() => toHex(narHash(nodeFsReader, root).narHash));
  const env = { ...process.env, NIX_REMOTE: 'dummy://' };
  const nix = time(() => execFileSync('nix-hash', ['--type', 'sha256', root], { env }).toString().trim());
  const tar = time(() => execSync(`tar -cf - -C ${dir} tree | sha256sum`).toString().split(' ')[0]!);
  if (mine.out !== nix.out) throw new Error(`narHash ${mine.out} differs from nix-hash ${nix.out}`);
  const mbps = (ms: number) => ((bytes / 1024 / 1024) / (ms / 1000)).toFixed(0);
  console.log(`tree: ${(bytes / 1024 / 1024).toFixed(0)} MiB, 4001 files`);
  console.log(`imgeval narHash      ${mine.ms.toFixed(0).padStart(6)} ms  ${mbps(mine.ms)} MiB/s`);
  console.log(`nix-hash --type sha256 ${nix.ms.toFixed(0).padStart(4)} ms  ${mbps(nix.ms)} MiB/s  (imgeval/nix = ${(mine.ms / nix.ms).toFixed(2)}×)`);
  console.log(`tar | sha256sum      ${tar.ms.toFixed(0).padStart(6)} ms  ${mbps(tar.ms)} MiB/s  (imgeval/tar = ${(mine.ms / tar.ms).toFixed(2)}×)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
