// build/builtins/write-text: `builtin:write-text`, nixpkgs' writeTextFile done in-process. Reads
// env `text`, `executable` ("1" or ""), `destination` ("" or "/rel/path"); never reads inputs.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { builderError, fsPath, outTemp, requireEnv, type BuiltinBuilder } from '../builder-registry.js';

const NAME = 'write-text';

/** Checks a `destination` ("/bin/foo"): absolute, no empty, `.` or `..` components. */
function destinationParts(dest: string): string[] {
  if (!dest.startsWith('/')) throw builderError(NAME, `destination '${dest}' must start with '/'`);
  const parts = dest.slice(1).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw builderError(NAME, `destination '${dest}' must be a relative path without '', '.' or '..' components after its leading '/'`);
  }
  return parts;
}

export const writeText: BuiltinBuilder = {
  name: NAME,
  doc:
    "builtin:write-text: writes env 'text' (bytes, as given) to a file. With 'destination' empty, $out is that file; " +
    "with 'destination' = '/bin/foo', $out is a directory holding it at bin/foo. 'executable' = \"1\" makes it 0555 " +
    '(otherwise 0444).',
  run(ctx) {
    const text = requireEnv(ctx, NAME, 'text');
    const executable = (ctx.env.get('executable') ?? '') !== '';
    const destination = ctx.env.get('destination') ?? '';
    const out = outTemp(ctx, NAME);
    let file = fsPath(out);
    if (destination !== '') {
      const parts = destinationParts(destination);
      const dir = Buffer.concat([fsPath(out), fsPath('/' + parts.slice(0, -1).join('/'))]);
      mkdirSync(dir, { recursive: true });
      file = Buffer.concat([fsPath(out), fsPath(destination)]);
    }
    writeFileSync(file, Buffer.from(text, 'latin1'), { flag: 'wx' });
    chmodSync(file, executable ? 0o555 : 0o444);
    ctx.log(`wrote ${text.length} bytes${destination ? ` to ${destination}` : ''}${executable ? ' (executable)' : ''}`);
  },
};
