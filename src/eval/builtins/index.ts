// eval/builtins: the table of every builtin, assembled from one table per theme. Each entry is
// `{ name, arity, doc, impl }`; arity 0 marks a constant. GLOBAL_NAMES are the builtins that are
// in the global scope under their plain name (all others are there as `__name`), as in Nix 2.8.
// Never does IO.

import type { BuiltinDef } from '../value.js';
import { ARITH_BUILTINS } from './arith.js';
import { ATTR_BUILTINS } from './attrs.js';
import { CONSTANT_BUILTINS } from './constants.js';
import { CONTEXT_BUILTINS } from './context.js';
import { CONTROL_BUILTINS } from './control.js';
import { FILE_BUILTINS } from './files.js';
import { FORMAT_BUILTINS } from './formats.js';
import { LIST_BUILTINS } from './lists.js';
import { SERIAL_BUILTINS } from './serial.js';
import { STRING_BUILTINS } from './strings.js';
import { TYPE_BUILTINS } from './types.js';

export const ALL_BUILTINS: readonly BuiltinDef[] = [
  ...CONSTANT_BUILTINS,
  ...CONTROL_BUILTINS,
  ...TYPE_BUILTINS,
  ...ARITH_BUILTINS,
  ...STRING_BUILTINS,
  ...CONTEXT_BUILTINS,
  ...LIST_BUILTINS,
  ...ATTR_BUILTINS,
  ...SERIAL_BUILTINS,
  ...FORMAT_BUILTINS,
  ...FILE_BUILTINS,
];

export const GLOBAL_NAMES: ReadonlySet<string> = new Set([
  'abort',
  'baseNameOf',
  'derivation',
  'derivationStrict',
  'dirOf',
  'false',
  'fetchGit',
  'fetchMercurial',
  'fetchTarball',
  'fetchTree',
  'fromTOML',
  'import',
  'isNull',
  'map',
  'null',
  'placeholder',
  'removeAttrs',
  'scopedImport',
  'throw',
  'toString',
  'true',
]);
