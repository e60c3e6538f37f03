// A developer tool: runs the conformance cases (optionally those whose name contains ARG) and
// prints passing/total and the failing names (V=N shows N chars of each failure).
import { readManifest, runCase } from './run-case.js';
const only = process.argv[2];
const cases = readManifest().filter((c) => c.status === 'agree' && (!only || c.name.includes(only)));
let pass = 0; const fails: string[] = [];
const t0 = Date.now();
for (const c of cases) { const r = runCase(c); if (r.ok) pass++; else { fails.push(c.name); if (process.env.V) console.log('FAIL', c.name, r.detail.slice(0, Number(process.env.V))); } }
console.log(`${pass}/${cases.length} in ${Date.now() - t0} ms`);
console.log(fails.join('\n'));
