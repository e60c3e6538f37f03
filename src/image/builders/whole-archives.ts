// image/builders/whole-archives: builders over whole docker-archives.
// `builtin:export-image` (exportImage): the image's root filesystem flattened into one plain tar
// — layers applied bottom → top, whiteouts (`.wh.name`, opaque `.wh..wh..opq`) applied, hard
// links turned into regular files, entries sorted, names `./…`, mtime SOURCE_DATE_EPOCH, numeric
// owners kept — without a VM. Layer members are untrusted: a name that is absolute after `./`
// stripping is made relative, one climbing out with `..` is refused, a hard link to a name not
// in the image is refused; file contents are spooled to numbered scratch files, never to a path
// taken from the archive.
// `builtin:merge-images` (mergeImages): several archives in one — members copied (first of a
// name wins), `manifest.json` arrays concatenated, `repositories` merged (later wins), sorted,
// compressed like the last input.
// Neither reads the clock; neither writes outside $out and scratch.

import { closeSync, createWriteStream, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { execa } from 'execa';
import tarStream from 'tar-stream';
import { ImgError } from '../../base/error.js';
import type { BuiltinBuilder } from '../../build/builder-registry.js';
import { compareMemberNames, readDockerArchive } from '../docker-archive.js';
import { jsonBytes, parseJsonBytes, type JsonValue } from '../json.js';
import { indexTar, readMember, type TarMember } from '../tar-reader.js';
import { TarWriter, withFileSink, type Compression, type TarEntry } from '../tar-writer.js';
import { SOURCE_DATE_EPOCH, buildError, fsPath, imageArgs, outDir, u } from './common.js';

interface RootEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  data?: string;
  target?: string;
}

/** `./a/b/` → `a/b`; refuses `..`; '' for the root. */
function layerName(raw: string, what: string): string {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ImgError('E_ARCHIVE', `${what} has a member '${u(raw)}' that climbs out with '..'`);
  return parts.join('/');
}

const EXPORT = 'export-image';

export const exportImage: BuiltinBuilder = {
  name: EXPORT,
  doc:
    "builtin:export-image: exportImage. Reads env 'imageArgs' (JSON: fromImage, fromImageRef); $out is one plain tar of " +
    "the image's merged root filesystem (whiteouts applied, sorted, ./-prefixed names, mtime 1980-01-01).",
  async run(ctx) {
    const a = imageArgs<{ fromImage: string; fromImageRef: string }>(ctx, EXPORT);
    const out = outDir(ctx, EXPORT);
    const base = await readDockerArchive(ctx.store.toPhysical(a.fromImage), { ...(a.fromImageRef ? { ref: a.fromImageRef } : {}), workDir: join(ctx.tmpDir, 'archive') });
    const spool = join(ctx.tmpDir, 'files');
    mkdirSync(spool);
    let counter = 0;
    const tree = new Map<string, RootEntry>();
    const removeUnder = (dir: string, keep?: Set<string>) => {
      const prefix = dir === '' ? '' : `${dir}/`;
      for (const k of [...tree.keys()]) if (k.startsWith(prefix) && k !== dir && !keep?.has(k)) tree.delete(k);
    };
    for (const l of base.layers) {
      const what = `layer '${u(l.member)}' of '${u(base.archive)}'`;
      const addedHere = new Set<string>();
      const ex = tarStream.extract();
      const done = new Promise<void>((res, rej) => {
        ex.on('entry', (h, stream, next) => {
          const fail = (e: unknown) => {
            stream.resume();
            rej(e);
          };
          try {
            const name = layerName(h.name, what);
            const slash = name.lastIndexOf('/');
            const dir = slash < 0 ? '' : name.slice(0, slash);
            const base = slash < 0 ? name : name.slice(slash + 1);
            const finish = () => next();
            if (base === '.wh..wh..opq') {
              removeUnder(dir, addedHere);
              stream.on('end', finish);
              stream.resume();
              return;
            }
            if (base.startsWith('.wh.')) {
              const victim = (dir ? `${dir}/` : '') + base.slice(4);
              tree.delete(victim);
              removeUnder(victim);
              stream.on('end', finish);
              stream.resume();
              return;
            }
            if (name === '') {
              stream.on('end', finish);
              stream.resume();
              return;
            }
            const meta = { mode: (h.mode ?? 0o644) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0 };
            const prev = tree.get(name);
            if (h.type === 'directory') {
              if (prev && prev.type !== 'directory') removeUnder(name);
              tree.set(name, { type: 'directory', size: 0, ...meta });
            } else if (h.type === 'symlink') {
              if (prev?.type === 'directory') removeUnder(name);
              tree.set(name, { type: 'symlink', size: 0, target: h.linkname ?? '', ...meta });
            } else if (h.type === 'link') {
              const target = layerName(h.linkname ?? '', what);
              const t = tree.get(target);
              if (!t || t.type !== 'file') throw new ImgError('E_ARCHIVE', `${what} has a hard link '${u(name)}' to '${u(h.linkname ?? '')}', which is not a file in the image`);
              tree.set(name, { ...t, ...meta });
            } else if (h.type === 'file' || h.type === 'contiguous-file') {
              if (prev?.type === 'directory') removeUnder(name);
              const data = join(spool, String(counter++));
              const entry: RootEntry = { type: 'file', size: h.size ?? 0, data, ...meta };
              tree.set(name, entry);
              addedHere.add(name);
              pipeline(stream, createWriteStream(data)).then(finish, fail);
              return;
            } else {
              ctx.log(`skipped ${h.type} member '${u(name)}'`);
            }
            addedHere.add(name);
            stream.on('end', finish);
            stream.resume();
          } catch (e) {
            fail(e);
          }
        });
        ex.on('finish', res);
        ex.on('error', (e) => rej(e instanceof ImgError ? e : new ImgError('E_ARCHIVE', `${what} is not a readable tar: ${(e as Error).message}`)));
      });
      const src = l.open();
      src.on('error', (e) => ex.destroy(e));
      src.pipe(ex);
      await done;
    }
    const names = [...tree.keys()].sort(compareMemberNames);
    const owner = (e: RootEntry) => ({ uid: e.uid, gid: e.gid, uname: '', gname: '' });
    const entries: TarEntry[] = [{ type: 'directory', name: './', mode: 0o755, mtime: SOURCE_DATE_EPOCH, owner: { uid: 0, gid: 0, uname: '', gname: '' } }];
    for (const n of names) {
      const e = tree.get(n)!;
      const name = `./${n}`;
      if (e.type === 'directory') entries.push({ type: 'directory', name: `${name}/`, mode: e.mode, mtime: SOURCE_DATE_EPOCH, owner: owner(e) });
      else if (e.type === 'symlink') entries.push({ type: 'symlink', name, target: e.target!, mode: 0o777, mtime: SOURCE_DATE_EPOCH, owner: owner(e) });
      else entries.push({ type: 'file', name, size: statSync(e.data!).size, source: { path: Buffer.from(e.data!, 'utf8').toString('latin1') }, mode: e.mode, mtime: SOURCE_DATE_EPOCH, owner: owner(e) });
    }
    const r = await withFileSink(out, 'none', async (sink) => {
      const w = new TarWriter(sink);
      for (const e of entries) await w.add(e);
      return w.finish();
    });
    ctx.log(`exported ${entries.length} entries from ${base.layers.length} layers, ${r.size} bytes`);
  },
};

// ---------------------------------------------------------------- mergeImages

function sniff(path: string): Compression {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const n = readSync(fd, b, 0, 4, 0);
    if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (n === 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
    return 'none';
  } finally {
    closeSync(fd);
  }
}

async function decompress(path: string, c: Compression, to: string): Promise<string> {
  if (c === 'none') return path;
  try {
    if (c === 'gzip') await pipeline(createReadStream(path), createGunzip(), createWriteStream(to));
    else {
      const r = await execa('zstd', ['-d', '-q', '-c', path], { stdout: { file: to }, reject: false });
      if (r.failed) throw new Error(r.stderr ? String(r.stderr) : `exit ${r.exitCode}`);
    }
  } catch (e) {
    throw new ImgError('E_ARCHIVE', `archive '${u(path)}' could not be decompressed: ${(e as Error).message}`);
  }
  return to;
}

const MERGE = 'merge-images';

export const mergeImages: BuiltinBuilder = {
  name: MERGE,
  doc:
    "builtin:merge-images: mergeImages. Reads env 'imageArgs' (JSON: images); $out is one docker-archive holding every " +
    'image (members first-wins, manifest.json concatenated, repositories merged), compressed like the last input.',
  async run(ctx) {
    const a = imageArgs<{ images: string[] }>(ctx, MERGE);
    const out = outDir(ctx, MERGE);
    const chosen = new Map<string, { index: ReturnType<typeof indexTar>; m: TarMember }>();
    const manifest: JsonValue[] = [];
    const repositories: Record<string, Record<string, JsonValue>> = {};
    let last: Compression = 'none';
    let i = 0;
    for (const img of a.images) {
      const phys = ctx.store.toPhysical(img);
      last = sniff(phys);
      const tarPath = await decompress(phys, last, join(ctx.tmpDir, `in-${i++}.tar`));
      const index = indexTar(tarPath, phys);
      for (const name of index.order) {
        const m = index.members.get(name)!;
        if (name === 'manifest.json') {
          const v = parseJsonBytes(readMember(index, m), `manifest.json of '${u(img)}'`);
          if (!Array.isArray(v)) throw buildError(MERGE, `manifest.json of '${u(img)}' is not a list`);
          manifest.push(...(v as JsonValue[]));
        } else if (name === 'repositories') {
          const v = parseJsonBytes(readMember(index, m), `repositories of '${u(img)}'`) as Record<string, Record<string, JsonValue>>;
          for (const [repo, tags] of Object.entries(v ?? {})) repositories[repo] = { ...(repositories[repo] ?? {}), ...tags };
        } else if (!chosen.has(name) && name !== '') chosen.set(name, { index, m });
      }
    }
    const owner = { uid: 0, gid: 0, uname: '', gname: '' };
    const mtime = SOURCE_DATE_EPOCH;
    const names = [...chosen.keys(), 'manifest.json', ...(Object.keys(repositories).length ? ['repositories'] : [])].sort(compareMemberNames);
    const r = await withFileSink(out, last, async (sink) => {
      const w = new TarWriter(sink);
      for (const n of names) {
        if (n === 'manifest.json' || n === 'repositories') {
          const data = n === 'manifest.json' ? jsonBytes(manifest, 'jq') : jsonBytes(repositories as unknown as JsonValue, 'jq');
          await w.add({ type: 'file', name: n, size: data.length, source: { data }, mode: 0o444, mtime, owner });
          continue;
        }
        const { index, m } = chosen.get(n)!;
        if (m.type === 'directory') await w.add({ type: 'directory', name: `${n}/`, mode: 0o555, mtime, owner });
        else if (m.type === 'symlink') await w.add({ type: 'symlink', name: n, target: m.target!, mode: 0o777, mtime, owner });
        else if (m.type === 'file' || m.type === 'hardlink') {
          const src = m.type === 'hardlink' ? index.members.get(m.target!) : m;
          if (!src || src.type !== 'file') throw buildError(MERGE, `hard link '${u(n)}' points to no file`);
          await w.addFileHeader({ type: 'file', name: n, size: src.size, source: { data: Buffer.alloc(0) }, mode: 0o444, mtime, owner });
          const fd = openSync(fsPath(index.path), 'r');
          try {
            const buf = Buffer.allocUnsafe(1 << 20);
            let left = src.size;
            let at = src.offset;
            while (left > 0) {
              const k = readSync(fd, buf, 0, Math.min(buf.length, left), at);
              if (k === 0) throw buildError(MERGE, `archive '${u(index.path)}' is truncated in '${u(n)}'`);
              await w.writeContent(buf.subarray(0, k));
              left -= k;
              at += k;
            }
          } finally {
            closeSync(fd);
          }
          await w.endContent(src.size);
        }
      }
      return w.finish();
    });
    ctx.log(`merged ${a.images.length} archives: ${manifest.length} images, ${r.size} bytes`);
  },
};
