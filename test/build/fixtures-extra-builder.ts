// A module of extra built-in builders for realise-sync's test (as the image builders will be
// passed to realiseSync): `builtin:test-upper` writes env `text` upper-cased to $out.
import { writeFileSync } from 'node:fs';
import type { BuiltinBuilder } from '../../src/build/builder-registry.js';

export const builders: BuiltinBuilder[] = [
  {
    name: 'test-upper',
    doc: 'builtin:test-upper: writes env text, upper-cased, to $out (test only).',
    run(ctx) {
      writeFileSync(ctx.outputTemps.get('out')!, (ctx.env.get('text') ?? '').toUpperCase());
    },
  },
];
