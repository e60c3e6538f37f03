// store/fs-reader: the node:fs implementation of derivation/nar's FsReader (synchronous lstat,
// readdir, readlink and chunked reads into one reused 1 MiB buffer). Paths are strings or
// Buffers (a Buffer path survives file names that are not valid UTF-8). It only reads.

import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import type { FsReader } from '../derivation/nar.js';

const CHUNK = 1024 * 1024;
let shared: Buffer | undefined;

export const nodeFsReader: FsReader<string | Buffer> = {
  lstat(path) {
    const st = lstatSync(path);
    const type = st.isFile() ? 'regular' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
    return { type, executable: (st.mode & 0o100) !== 0, size: st.size };
  },
  readdir(path) {
    return readdirSync(path, { encoding: 'buffer' });
  },
  readlink(path) {
    return readlinkSync(path, { encoding: 'buffer' });
  },
  readFile(path, onChunk) {
    const fd = openSync(path, 'r');
    // A nested call (onChunk reading another file) must not clobber the outer buffer.
    const buf = shared ?? Buffer.allocUnsafe(CHUNK);
    shared = undefined;
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, CHUNK, null);
        if (n === 0) break;
        onChunk(buf.subarray(0, n));
      }
    } finally {
      shared = buf;
      closeSync(fd);
    }
  },
  join(dir, name) {
    const d = typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir;
    return Buffer.concat([d, Buffer.from('/'), name]);
  },
};
