// eval/builtins/files: reading the file system through the host (readFile, readDir,
// pathExists, hashFile), toPath, and the builtins that need the store (path, filterSource,
// toFile, storePath): those go through host hooks and fail clearly when there is no store.
// Never touches node:fs.

import { ImgError } from '../../base/error.js';
import { digest, toHex } from '../../base/hash.js';
import { ContextBuilder, coerceToString, forceString } from '../ops.js';
import type { EvalState } from '../state.js';
import { Attrs, mkString, type BuiltinDef, type Lazy } from '../value.js';
import { hashAlgo } from './strings.js';

function needsStore(name: string): BuiltinDef['impl'] {
  return (_st, span) => {
    throw new ImgError('E_STORE', `'builtins.${name}' needs the store: not implemented yet`, span);
  };
}

export const FILE_BUILTINS: BuiltinDef[] = [
  {
    name: 'readFile',
    arity: 1,
    doc: 'readFile path: the contents of the file as a string.',
    impl: (st: EvalState, span, a) => {
      const p = st.realPath(a, span);
      try {
        return st.host.readFile(p);
      } catch (e) {
        if (e instanceof ImgError) throw e.at(span);
        throw e;
      }
    },
  },
  {
    name: 'readDir',
    arity: 1,
    doc: 'readDir path: { name = "regular" | "directory" | "symlink" | "unknown"; } for each entry (symlinks not followed).',
    impl: (st: EvalState, span, a) => {
      const p = st.realPath(a, span);
      let entries;
      try {
        entries = st.host.readDir(p);
      } catch (e) {
        if (e instanceof ImgError) throw e.at(span);
        throw e;
      }
      const m = new Map<string, Lazy>();
      for (const [n, t] of entries) m.set(n, t);
      return new Attrs(m);
    },
  },
  {
    name: 'pathExists',
    arity: 1,
    doc: 'pathExists path: true if something exists at path.',
    impl: (st: EvalState, span, a) => {
      const p = st.realPath(a, span);
      return st.host.pathType(p, false) !== undefined;
    },
  },
  {
    name: 'hashFile',
    arity: 2,
    doc: 'hashFile algo path: the hex digest of the file with algo ("md5", "sha1", "sha256" or "sha512").',
    impl: (st: EvalState, span, a, b) => {
      const algo = hashAlgo(forceString(a, span), span);
      const p = st.realPath(b, span);
      let data: string;
      try {
        data = st.host.readFile(p);
      } catch (e) {
        if (e instanceof ImgError) throw e.at(span);
        throw e;
      }
      return toHex(digest(algo, Buffer.from(data, 'latin1')));
    },
  },
  {
    name: 'toPath',
    arity: 1,
    doc: 'toPath s: the canonical form of an absolute path, as a string (deprecated).',
    impl: (st: EvalState, span, a) => {
      const ctx = new ContextBuilder();
      const p = st.coerceToPath(a, span, ctx);
      return mkString(st.canonPath(p), ctx.set);
    },
  },
  { name: 'path', arity: 1, doc: 'path { path; name ? ; filter ? ; recursive ? true; sha256 ? ; }: copy a path to the store (needs the store).', impl: needsStore('path') },
  { name: 'filterSource', arity: 2, doc: 'filterSource pred path: copy path to the store, keeping the entries for which pred path type is true (needs the store).', impl: needsStore('filterSource') },
  { name: 'toFile', arity: 2, doc: 'toFile name s: write s to the store as a file called name and return its path (needs the store).', impl: needsStore('toFile') },
  { name: 'storePath', arity: 1, doc: 'storePath path: path, with the store path it names as context (needs the store).', impl: needsStore('storePath') },
  { name: 'derivationStrict', arity: 1, doc: 'derivationStrict attrs: write the derivation described by attrs and return { drvPath; <output> = path; } (needs the store).', impl: needsStore('derivationStrict') },
  { name: 'fetchurl', arity: 1, doc: 'fetchurl url: download a file into the store (needs the network and the store).', impl: needsStore('fetchurl') },
  { name: 'fetchTarball', arity: 1, doc: 'fetchTarball url: download and unpack a tarball into the store (needs the network and the store).', impl: needsStore('fetchTarball') },
  { name: 'fetchGit', arity: 1, doc: 'fetchGit url: fetch a Git repository into the store (needs the network and the store).', impl: needsStore('fetchGit') },
  { name: 'fetchMercurial', arity: 1, doc: 'fetchMercurial url: fetch a Mercurial repository into the store (needs the network and the store).', impl: needsStore('fetchMercurial') },
  { name: 'fetchTree', arity: 1, doc: 'fetchTree { type; … }: the generic fetcher (needs the network and the store).', impl: needsStore('fetchTree') },
];

void coerceToString;
