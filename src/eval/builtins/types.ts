// eval/builtins/types: type predicates and `typeOf`. Never forces more than the argument's WHNF.

import { Attrs, Lambda, NixFloat, NixPath, NixString, PrimOp, PrimOpApp, force, typeOf, type BuiltinDef, type Value } from '../value.js';

function pred(name: string, doc: string, test: (v: Value) => boolean): BuiltinDef {
  return { name, arity: 1, doc, impl: (_st, _span, a) => test(force(a)) };
}

export const TYPE_BUILTINS: BuiltinDef[] = [
  { name: 'typeOf', arity: 1, doc: 'typeOf x: the type of x as a string: "int" "float" "bool" "string" "path" "null" "set" "list" "lambda".', impl: (_st, _s, a) => typeOf(force(a)) },
  pred('isNull', 'isNull x: true if x is null (deprecated; use x == null).', (v) => v === null),
  pred('isFunction', 'isFunction x: true if x is a function (lambda or builtin).', (v) => v instanceof Lambda || v instanceof PrimOp || v instanceof PrimOpApp),
  pred('isInt', 'isInt x: true if x is an integer.', (v) => typeof v === 'number' || typeof v === 'bigint'),
  pred('isFloat', 'isFloat x: true if x is a float.', (v) => v instanceof NixFloat),
  pred('isString', 'isString x: true if x is a string (paths are not strings).', (v) => typeof v === 'string' || v instanceof NixString),
  pred('isBool', 'isBool x: true if x is a Boolean.', (v) => typeof v === 'boolean'),
  pred('isPath', 'isPath x: true if x is a path.', (v) => v instanceof NixPath),
  pred('isList', 'isList x: true if x is a list.', (v) => Array.isArray(v)),
  pred('isAttrs', 'isAttrs x: true if x is an attribute set.', (v) => v instanceof Attrs),
];
