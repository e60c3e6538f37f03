// build/builtins/index: the default table of built-in builders (write-text, symlink-join,
// link-farm, fetchurl). Image builders are added by the composition root with
// `DEFAULT_BUILTINS.with([...])`, since build/ never imports image/.

import { BuiltinRegistry } from '../builder-registry.js';
import { fetchurl } from './fetchurl.js';
import { linkFarm } from './link-farm.js';
import { symlinkJoin } from './symlink-join.js';
import { writeText } from './write-text.js';

export const DEFAULT_BUILTINS = new BuiltinRegistry([writeText, symlinkJoin, linkFarm, fetchurl]);
