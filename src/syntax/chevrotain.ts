// syntax/chevrotain: loads Chevrotain from its single-file bundle (lib/chevrotain.min.mjs)
// instead of its package entry, whose ESM tree pulls in ~600 lodash-es modules and costs about
// a second of start-up; the bundle loads in tens of milliseconds. Same version, same API; the
// types still come from the package. Falls back to the package entry if the bundle is missing.
// Never does anything but load the library.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Chevrotain from 'chevrotain';

async function load(): Promise<typeof Chevrotain> {
  const entry = createRequire(import.meta.url).resolve('chevrotain'); // …/chevrotain/lib/src/api.js
  const bundle = join(dirname(entry), '..', 'chevrotain.min.mjs');
  if (existsSync(bundle)) return (await import(pathToFileURL(bundle).href)) as typeof Chevrotain;
  return import('chevrotain');
}

export const chevrotain: typeof Chevrotain = await load();
