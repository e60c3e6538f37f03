// eval/builtins/formats: parsing data formats and version strings (fromJSON, fromTOML,
// splitVersion, compareVersions, parseDrvName), on top of the pure parsers of eval/lib.
// Never does IO.

import type { BuiltinDef } from '../value.js';

export const FORMAT_BUILTINS: BuiltinDef[] = [];
