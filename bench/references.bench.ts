// Bench: the reference scanner (store/references.ts) — MB/s of ReferenceScanner over 64 MiB of
// random bytes, 64 MiB of 'x' (one long base32 run: the worst case of a naive scanner), 64 MiB
// of random base32 characters (hash-dense text) and a real binary (the node executable), fed in 64 KiB chunks as writeNar does, with 300 candidate
// store paths (none of which occur, so every byte is scanned). `grep -F -f <hash parts>` over the
// same bytes in the same run is the reference (ratio > 1: the scanner is faster). Target:
// >= 300 MB/s on all of them.
//   node --import tsx bench/references.bench.ts [--mib 64]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTextPath } from '../src/derivation/store-path.js';
import { ReferenceScanner, hashPartOf } from '../src/store/references.js';

const argv = process.argv.slice(2);
const i = argv.indexOf('--mib');
const MIB = i >= 0 ? Number(argv[i + 1]) : 64;
const CHUNK = 64 * 1024;
const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

const candidates = Array.from({ length: 300 }, (_, k) => makeTextPath(`cand-${k}`, `candidate ${k}`));
const inputs: [string, Buffer][] = [
  ['random bytes', randomBytes(MIB * 1048576)],
  ["all 'x'", Buffer.alloc(MIB * 1048576, 'x')],
  ['random base32 (hash-dense text)', Buffer.from(Array.from(randomBytes(MIB * 1048576), (b) => BASE32.charCodeAt(b & 31)))],
  [`real binary (${process.execPath})`, readFileSync(process.execPath)],
];

function scan(data: Buffer): number {
  const t0 = performance.now();
  const s = new ReferenceScanner(candidates);
  for (let off = 0; off < data.length; off += CHUNK) s.update(data.subarray(off, off + CHUNK));
  const ms = performance.now() - t0;
  if (s.result().length !== 0) throw new Error('a candidate was found where none occurs');
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'imgeval-refbench-'));
const patterns = join(dir, 'patterns');
writeFileSync(patterns, candidates.map(hashPartOf).join('\n') + '\n');
const haveGrep = spawnSync('sh', ['-c', 'command -v grep'], { stdio: 'ignore' }).status === 0;
try {
  console.log(`reference scanner, ${candidates.length} candidates, ${CHUNK / 1024} KiB chunks (best of 3)`);
  for (const [what, data] of inputs) {
    let best = Infinity;
    for (let r = 0; r < 3; r++) best = Math.min(best, scan(data));
    const mbps = data.length / 1e6 / (best / 1000);
    let line = `  ${what.padEnd(48)} ${(data.length / 1048576).toFixed(1).padStart(6)} MiB  ${mbps.toFixed(0).padStart(6)} MB/s`;
    if (haveGrep) {
      const f = join(dir, 'input');
      writeFileSync(f, data);
      let g = Infinity;
      for (let r = 0; r < 2; r++) {
        const t0 = performance.now();
        const res = spawnSync('grep', ['-c', '-a', '-F', '-f', patterns, f], { env: { LC_ALL: 'C', PATH: process.env.PATH }, encoding: 'utf8' });
        g = Math.min(g, performance.now() - t0);
        if (res.status !== 1) throw new Error(`grep -F found something or failed: ${res.status} ${res.stderr}`);
      }
      line += `   grep -F ${(data.length / 1e6 / (g / 1000)).toFixed(0).padStart(6)} MB/s   scanner/grep = ${(g / best).toFixed(2)}x`;
    }
    console.log(line);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
