// eval/builtins/formats: parsing data formats and version strings (fromJSON, fromTOML,
// splitVersion, compareVersions, parseDrvName), on top of the pure parsers of eval/lib.
// Never does IO.

import { ImgError } from '../../base/error.js';
import { JsonFloat, JsonObject, parseJSONWith, type JsonBuilder, type JsonTree } from '../lib/json.js';
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

/**
 * A shape for these sorted, distinct names: one already made by this parse when it has exactly
 * them (looked up by the first name; a few candidates each), else a new one.
 */
function shapeFor(keys: string[], shapes: Map<string, Shape[]>): Shape {
  const n = keys.length;
  if (n === 0) return EMPTY_SHAPE;
  const first = keys[0]!;
  let cands = shapes.get(first);
  if (cands === undefined) shapes.set(first, (cands = []));
  for (let c = 0; c < cands.length; c++) {
    const k = cands[c]!.keys;
    if (k.length !== n) continue;
    let i = 1;
    while (i < n && k[i] === keys[i]) i++;
    if (i === n) return cands[c]!;
  }
  const shape = new Shape(keys);
  if (cands.length < 8) cands.push(shape);
  return shape;
}

/** fromJSON's values made directly by the parser: sets of the same names share one Shape. */
function jsonValueBuilder(): JsonBuilder<Value> {
  const shapes = new Map<string, Shape[]>();
  return {
    object(keys, vals) {
      const n = keys.length;
      let sorted = true;
      for (let i = 1; i < n; i++)
        if (!(keys[i - 1]! < keys[i]!)) {
          sorted = false;
          break;
        }
      if (sorted) return new Attrs(shapeFor(keys, shapes), vals);
      // sort by name; of duplicates the last one's value wins
      const idx = new Array<number>(n);
      for (let i = 0; i < n; i++) idx[i] = i;
      idx.sort((x, y) => {
        const a = keys[x]!;
        const b = keys[y]!;
        return a < b ? -1 : a > b ? 1 : x - y;
      });
      const ks: string[] = [];
      const vs: Lazy[] = [];
      for (let i = 0; i < n; i++) {
        const j = idx[i]!;
        const k = keys[j]!;
        if (ks.length > 0 && ks[ks.length - 1] === k) vs[vs.length - 1] = vals[j]!;
        else {
          ks.push(k);
          vs.push(vals[j]!);
        }
      }
      return new Attrs(shapeFor(ks, shapes), vs);
    },
    array: (items) => items,
    float: (v) => new NixFloat(v),
  };
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
      return atSpan(span, () => parseJSONWith(s, jsonValueBuilder()) as Value);
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
