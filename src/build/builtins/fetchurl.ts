// build/builtins/fetchurl: `builtin:fetchurl`, as Nix 2.8's: downloads env `url` (`file://`,
// `http://`, `https://`) to $out; `executable` = "1" makes it 0555, `unpack` = "1" treats the
// download as a NAR and restores it as $out. Only for fixed-output derivations: the content hash
// is checked by the scheduler afterwards (nothing is registered on a mismatch). Never decides
// about hashes itself and never writes outside $out.

import { chmodSync, createWriteStream, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fixedOutput } from '../../derivation/derivation.js';
import { parseNar } from '../../derivation/nar.js';
import { builderError, fsPath, outTemp, requireEnv, type BuiltinBuilder } from '../builder-registry.js';

const NAME = 'fetchurl';

/** Restores a NAR held in memory at `dest` (which must not exist). */
function restoreNar(nar: Buffer, dest: string): void {
  const at = (parts: Buffer[]): Buffer => Buffer.concat([fsPath(dest), ...parts.flatMap((p) => [Buffer.from('/'), p])]);
  let fd: { path: Buffer; chunks: Buffer[]; exec: boolean } | undefined;
  const flush = (): void => {
    if (!fd) return;
    writeFileSync(fd.path, Buffer.concat(fd.chunks), { flag: 'wx', mode: fd.exec ? 0o555 : 0o444 });
    fd = undefined;
  };
  parseNar(nar, {
    createDirectory(path) {
      flush();
      mkdirSync(at(path));
    },
    createRegularFile(path, executable) {
      flush();
      fd = { path: at(path), chunks: [], exec: executable };
    },
    contents(chunk) {
      fd!.chunks.push(Buffer.from(chunk));
    },
    createSymlink(path, target) {
      flush();
      symlinkSync(target, at(path));
    },
  });
  flush();
}

async function download(url: string, signal: AbortSignal, sink: (data: Readable) => Promise<void>): Promise<void> {
  const u = Buffer.from(url, 'latin1').toString('utf8');
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw builderError(NAME, `'${url}' is not a valid URL`);
  }
  if (parsed.protocol === 'file:') {
    let data: Buffer;
    try {
      data = readFileSync(fileURLToPath(parsed));
    } catch (e) {
      throw builderError(NAME, `unable to download '${url}': ${(e as Error).message}`);
    }
    return sink(Readable.from([data]));
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw builderError(NAME, `unsupported URL scheme in '${url}' (file://, http:// and https:// are supported)`);
  }
  let res: Response;
  try {
    res = await fetch(parsed, { signal, redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw builderError(NAME, `unable to download '${url}': ${cause ?? (e as Error).message}`);
  }
  if (!res.ok || !res.body) throw builderError(NAME, `unable to download '${url}': HTTP error ${res.status}`);
  return sink(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream));
}

export const fetchurl: BuiltinBuilder = {
  name: NAME,
  doc:
    "builtin:fetchurl: downloads env 'url' (file://, http://, https://) to $out, for a fixed-output derivation " +
    "(outputHash checked after the download). 'executable' = \"1\" makes $out executable (needs outputHashMode " +
    "\"recursive\"); 'unpack' = \"1\" treats the download as a NAR and unpacks it as $out.",
  async run(ctx) {
    if (!fixedOutput(ctx.drv)) throw builderError(NAME, `'builtin:fetchurl' must be a fixed-output derivation (give outputHash)`);
    const url = requireEnv(ctx, NAME, 'url');
    const executable = (ctx.env.get('executable') ?? '') !== '';
    const unpack = (ctx.env.get('unpack') ?? '') !== '';
    if (url.endsWith('.xz') && unpack) throw builderError(NAME, `unpacking xz-compressed NARs ('${url}') is not supported`);
    const out = outTemp(ctx, NAME);
    ctx.log(`downloading '${url}'...`);
    let size = 0;
    if (unpack) {
      const chunks: Buffer[] = [];
      await download(url, ctx.signal, async (data) => {
        for await (const c of data) {
          chunks.push(c as Buffer);
          size += (c as Buffer).length;
        }
      });
      restoreNar(Buffer.concat(chunks), out);
    } else {
      await download(url, ctx.signal, async (data) => {
        data.on('data', (c: Buffer) => (size += c.length));
        await pipeline(data, createWriteStream(fsPath(out), { flags: 'wx', mode: 0o644 }));
      });
      if (executable) chmodSync(fsPath(out), 0o555);
    }
    ctx.log(`downloaded ${size} bytes`);
  },
};
