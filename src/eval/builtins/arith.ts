// eval/builtins/arith: the functions behind `-` `*` `/` `<`, plus add, ceil/floor and bit
// operations, with int64 wraparound (Nix 2.8) and int/float promotion. Never does IO.

import { ImgError } from '../../base/error.js';
import { forceFloatOrInt, forceInt, lessThan, numAdd, numDiv, numMul, numSub, typeError } from '../ops.js';
import { NixFloat, force, mkInt, type BuiltinDef, type Lazy, type Value } from '../value.js';

function num(x: Lazy, span: Parameters<typeof typeError>[2]): Value {
  const v = force(x);
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof NixFloat) return v;
  throw typeError(v, 'an integer', span);
}

function bits(name: string, doc: string, f: (a: bigint, b: bigint) => bigint): BuiltinDef {
  return {
    name,
    arity: 2,
    doc,
    impl: (_st, span, a, b) => {
      const x = forceInt(a, span);
      const y = forceInt(b, span);
      return mkInt(f(BigInt(x), BigInt(y)));
    },
  };
}

function toInt(x: number, span: Parameters<typeof typeError>[2]): number | bigint {
  if (!Number.isFinite(x)) throw new ImgError('E_EVAL', `cannot convert ${x} to an integer`, span);
  return Number.isSafeInteger(x) ? x : mkInt(BigInt(x));
}

export const ARITH_BUILTINS: BuiltinDef[] = [
  { name: 'add', arity: 2, doc: 'add a b: the sum of two numbers (a float if either is one).', impl: (_st, span, a, b) => numAdd(num(a, span), num(b, span), span) },
  { name: 'sub', arity: 2, doc: 'sub a b: a - b (the function behind the `-` operator).', impl: (_st, span, a, b) => numSub(num(a, span), num(b, span), span) },
  { name: 'mul', arity: 2, doc: 'mul a b: a * b (the function behind the `*` operator).', impl: (_st, span, a, b) => numMul(num(a, span), num(b, span), span) },
  { name: 'div', arity: 2, doc: 'div a b: a / b, truncating for integers (the function behind `/`); division by zero is an error.', impl: (_st, span, a, b) => numDiv(num(a, span), num(b, span), span) },
  { name: 'lessThan', arity: 2, doc: 'lessThan a b: a < b for numbers, strings, paths and lists (the function behind `<`).', impl: (_st, span, a, b) => lessThan(force(a), force(b), span) },
  { name: 'ceil', arity: 1, doc: 'ceil x: the smallest integer not less than the number x.', impl: (_st, span, a) => toInt(Math.ceil(forceFloatOrInt(a, span)), span) },
  { name: 'floor', arity: 1, doc: 'floor x: the largest integer not greater than the number x.', impl: (_st, span, a) => toInt(Math.floor(forceFloatOrInt(a, span)), span) },
  bits('bitAnd', 'bitAnd a b: bitwise AND of two integers.', (a, b) => a & b),
  bits('bitOr', 'bitOr a b: bitwise OR of two integers.', (a, b) => a | b),
  bits('bitXor', 'bitXor a b: bitwise XOR of two integers.', (a, b) => a ^ b),
];
