// cli/host: the Node implementation of the evaluator's EvalHost (files, directories, the
// environment, traces to stderr, the clock). Paths cross this boundary as byte strings (latin1)
// and are turned back into bytes for node:fs. The store hooks are left to the composition root
// that has a store; without them the evaluator reports "needs the store".

import { lstatSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { ImgError } from '../base/error.js';
import type { EvalHost, FileType } from '../eval/index.js';

const toFs = (p: string): Buffer => Buffer.from(p, 'latin1');
const fromFs = (p: string): string => Buffer.from(p, 'utf8').toString('latin1');

function ioError(action: string, path: string, e: unknown): ImgError {
  const code = (e as { code?: string }).code;
  const why =
    code === 'ENOENT'
      ? 'No such file or directory'
      : code === 'EISDIR'
        ? 'Is a directory'
        : code === 'ENOTDIR'
          ? 'Not a directory'
          : code === 'EACCES'
            ? 'Permission denied'
            : String((e as Error).message ?? e);
  return new ImgError('E_IO', `${action} '${path}': ${why}`);
}

function direntType(d: Dirent): FileType {
  if (d.isFile()) return 'regular';
  if (d.isDirectory()) return 'directory';
  if (d.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

export interface NodeHostOptions {
  /** Where trace lines go (stderr of the CLI). */
  trace: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function nodeEvalHost(opts: NodeHostOptions): EvalHost {
  const env = opts.env ?? process.env;
  const cwd = fromFs(opts.cwd ?? process.cwd());
  return {
    readFile(path) {
      try {
        return readFileSync(toFs(path)).toString('latin1');
      } catch (e) {
        throw ioError('opening file', path, e);
      }
    },
    readDir(path) {
      try {
        const ents = readdirSync(toFs(path), { withFileTypes: true, encoding: 'buffer' }) as unknown as Dirent[];
        return ents.map((d) => [Buffer.from(d.name as unknown as Buffer).toString('latin1'), direntType(d)] as [string, FileType]);
      } catch (e) {
        throw ioError('opening directory', path, e);
      }
    },
    pathType(path, follow) {
      try {
        const s = follow ? statSync(toFs(path), { throwIfNoEntry: false }) : lstatSync(toFs(path), { throwIfNoEntry: false });
        if (!s) return undefined;
        if (s.isFile()) return 'regular';
        if (s.isDirectory()) return 'directory';
        if (s.isSymbolicLink()) return 'symlink';
        return 'unknown';
      } catch {
        return undefined;
      }
    },
    getEnv(name) {
      const v = env[Buffer.from(name, 'latin1').toString('utf8')];
      return v === undefined ? undefined : fromFs(v);
    },
    trace(line) {
      opts.trace(line);
    },
    cwd() {
      return cwd;
    },
    currentTime() {
      return Math.floor(Date.now() / 1000);
    },
  };
}
