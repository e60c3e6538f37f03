// eval/builtins/formats: parsing data formats and version strings (fromJSON, fromTOML,
// splitVersion, compareVersions, parseDrvName), on top of the pure parsers of eval/lib.
// Never does IO.

import { ImgError } from '../../base/error.js';
import { JsonFloat, JsonObject, parseJSON, type JsonTree } from '../lib/json.js';
import { parseTOML } from '../lib/toml.js';
import { compareVersions, parseDrvName, splitVersion } from '../lib/versions.js';
import { forceString } from '../ops.js';
import { Attrs, EMPTY_SHAPE, NixFloat, Shape, type BuiltinDef, type Lazy, type Value } from '../value.js';

/**
 * A parsed tree as values. Objects with the same names share one `Shape` (records of a JSON
 * array mostly do: cheaper to build, and attribute selection's inline caches then hit).
 */
function fromJsonTree(t: JsonTree, shapes: Map<string, Shape> = new Map()): Value {
  if (t === null || typeof t !== 'object') return t;
  if (t instanceof JsonFloat) return new NixFloat(t.value);
  if (Array.isArray(t)) {
    const out = new Array<Lazy>(t.length);
    for (let i = 0; i < t.length; i++) out[i] = fromJsonTree(t[i]!, shapes);
    return out;
  }
  if (t instanceof JsonObject) {
    const m = t.entries;
    const keys = [...m.keys()];
    let sorted = true;
    for (let i = 1; i < keys.length; i++)
      if (!(keys[i - 1]! < keys[i]!)) {
        sorted = false;
        break;
      }
    if (!sorted) keys.sort();
    // names are byte strings (chars <= 0xff): U+0100 cannot occur in them
    const id = keys.join('\u0100');
    let shape = shapes.get(id);
    if (shape === undefined) {
      shape = keys.length === 0 ? EMPTY_SHAPE : new Shape(keys);
      shapes.set(id, shape);
    }
    const vals = new Array<Lazy>(keys.length);
    for (let i = 0; i < keys.length; i++) vals[i] = fromJsonTree(m.get(keys[i]!)!, shapes);
    return new Attrs(shape, vals);
  }
  return t as Value;
}

function atSpan<T>(span: Parameters<typeof forceString>[1], f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ImgError) throw e.at(span);
    throw e;
  }
}

export const FORMAT_BUILTINS: BuiltinDef[] = [
  {
    name: 'fromJSON',
    arity: 1,
    doc: 'fromJSON s: the value of the JSON text s (numbers with . or e are floats, others ints).',
    impl: (_st, span, a) => {
      const s = forceString(a, span);
      return atSpan(span, () => fromJsonTree(parseJSON(s)));
    },
  },
  {
    name: 'fromTOML',
    arity: 1,
    doc: 'fromTOML s: the value of the TOML document s (tables become sets; dates are not supported, as in Nix 2.8).',
    impl: (_st, span, a) => {
      const s = forceString(a, span);
      return atSpan(span, () => fromJsonTree(parseTOML(s)));
    },
  },
  {
    name: 'splitVersion',
    arity: 1,
    doc: 'splitVersion s: the components of a version string, split at . and - and between digits and letters.',
    impl: (_st, span, a) => splitVersion(forceString(a, span)),
  },
  {
    name: 'compareVersions',
    arity: 2,
    doc: 'compareVersions a b: -1, 0 or 1 as version a is older than, equal to or newer than b (Nix version ordering).',
    impl: (_st, span, a, b) => compareVersions(forceString(a, span), forceString(b, span)),
  },
  {
    name: 'parseDrvName',
    arity: 1,
    doc: 'parseDrvName s: { name; version; } split at the first dash followed by a non-letter.',
    impl: (_st, span, a) => {
      const r = parseDrvName(forceString(a, span));
      return Attrs.of([
        ['name', r.name],
        ['version', r.version],
      ]);
    },
  },
];
