// The test runner behind `npm test`: finds every `test/**/*.test.ts` (or those whose path
// contains one of the arguments), runs them with uvu, and ends with the plain line
// `N passed, N failed` (with `, N skipped` when tests were skipped).
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const testDir = join(root, 'test');
const filters = process.argv.slice(2);

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'fixtures' && name !== 'node_modules') walk(p, out);
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = walk(testDir, []).filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)));

// Count what uvu reports by listening to its summary lines.
let total = 0;
let passed = 0;
let skipped = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  const plain = s.replace(/\x1b\[[0-9;]*m/g, '');
  const t = /Total:\s+(\d+)/.exec(plain);
  if (t) total = Number(t[1]);
  const p = /Passed:\s+(\d+)/.exec(plain);
  if (p) passed = Number(p[1]);
  const k = /Skipped:\s+(\d+)/.exec(plain);
  if (k) skipped = Number(k[1]);
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

(globalThis as Record<string, unknown>).UVU_DEFER = 1;
const uvu = await import('uvu');
const queue = (globalThis as unknown as { UVU_QUEUE: unknown[][] }).UVU_QUEUE;
let idx = 0;
for (const f of files) {
  (globalThis as Record<string, unknown>).UVU_INDEX = idx++;
  queue.push([relative(root, f)]);
  await import(pathToFileURL(f).href);
}
await uvu.exec(false);
process.stdout.write = write;
const failed = total - passed;
const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
console.log(line);
if (failed > 0 || (process.env.CI === 'true' && skipped > 0)) process.exitCode = 1;
