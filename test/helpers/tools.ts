// Test helpers for real peers (Debian packages). A test that needs a tool calls `needTool`:
// locally a missing tool makes the test skip with a line naming it; under CI=true it fails.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const ORACLES = resolve(SHARED, 'oracles');

const cache = new Map<string, boolean>();
export function haveTool(name: string): boolean {
  let ok = cache.get(name);
  if (ok === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    cache.set(name, ok);
  }
  return ok;
}

/**
 * True when the tools are present. When one is missing: under CI=true it throws (so the test
 * fails); otherwise it prints `skip: <what> needs <tool>` and returns false (the caller returns).
 */
export function needTool(what: string, ...tools: string[]): boolean {
  for (const t of tools) {
    if (!haveTool(t)) {
      const msg = `${what} needs '${t}' (install the Debian package; see README)`;
      if (process.env.CI === 'true') throw new Error(`missing tool under CI: ${msg}`);
      console.log(`\n  skip: ${msg}`);
      return false;
    }
  }
  return true;
}
