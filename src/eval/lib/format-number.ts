// eval/lib/format-number: how Nix 2.8 writes a float, byte for byte. Two formats:
//   - `formatFloat`: C++ `ostream << double` with the default precision 6, i.e. C's `%g`
//     (used by the value printer, by `toJSON` and by `toXML`'s <float value>): `1`, `1.5`,
//     `1e+06`, `1.23457e+08`, `2.5e-07`, `-0`, `inf`, `-inf`, `nan`, `-nan`;
//   - `formatFloatFixed`: `std::to_string(double)`, i.e. C's `%f` (used by `toString` and by
//     string coercion of floats in `toString`-like contexts): `1.500000`, `-0.000000`,
//     `100000000000000000000.000000`.
// Digits are computed exactly from the binary value (BigInt) and rounded half-to-even, as
// glibc's printf does; JS's own toPrecision/toFixed round ties away from zero instead.
// It never sees evaluator values, only JS numbers.

/** The sign bit of a double (true for -0, -inf and a NaN whose sign bit is set). */
function signBit(x: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return (view.getUint8(0) & 0x80) !== 0;
}

/**
 * The exact value of a finite, non-negative double as `digits × 10^exp10` (digits a BigInt).
 * Every double is a dyadic rational m·2^e, so m·5^-e·10^e is exact for e < 0.
 */
function exactDecimal(x: number): { digits: bigint; exp10: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  if (e >= 0) return { digits: mant << BigInt(e), exp10: 0 };
  return { digits: mant * 5n ** BigInt(-e), exp10: e };
}

/** Rounds `digits × 10^exp10` to a multiple of 10^k, half to even; returns the multiple. */
function roundAt(digits: bigint, exp10: number, k: number): bigint {
  if (exp10 >= k) return digits * 10n ** BigInt(exp10 - k);
  const div = 10n ** BigInt(k - exp10);
  const q = digits / div;
  const r2 = (digits % div) * 2n;
  if (r2 > div || (r2 === div && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** `r × 10^-frac` written with exactly `frac` digits after the point (none: no point). */
function withPoint(r: bigint, frac: number): string {
  let s = r.toString();
  if (frac === 0) return s;
  if (s.length <= frac) s = '0'.repeat(frac - s.length + 1) + s;
  return `${s.slice(0, s.length - frac)}.${s.slice(s.length - frac)}`;
}

function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return signBit(x) ? '-nan' : 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

/**
 * A float as Nix 2.8 prints it (`%g`, 6 significant digits, trailing zeros dropped):
 * `formatFloat(1e6)` is `1e+06`, `formatFloat(0.1 + 0.2)` is `0.3`, `formatFloat(-0)` is `-0`.
 */
export function formatFloat(x: number): string {
  const nf = nonFinite(x);
  if (nf !== null) return nf;
  const sign = signBit(x) ? '-' : '';
  if (x === 0) return `${sign}0`;
  const P = 6;
  const { digits, exp10 } = exactDecimal(Math.abs(x));
  // The decimal exponent after rounding to P significant digits.
  let X = digits.toString().length - 1 + exp10;
  let r = roundAt(digits, exp10, X - P + 1);
  if (r >= 10n ** BigInt(P)) {
    X++;
    r /= 10n;
  }
  let body: string;
  if (X < P && X >= -4) {
    body = withPoint(r, P - 1 - X);
  } else {
    const s = r.toString();
    const exp = `e${X < 0 ? '-' : '+'}${Math.abs(X).toString().padStart(2, '0')}`;
    body = `${s[0]}.${s.slice(1)}` + exp;
  }
  // %g drops trailing zeros of the fraction, and the point if nothing is left.
  body = body.replace(/^([^e]*\.[^e]*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
  return sign + body;
}

/**
 * A float as Nix 2.8's `toString` writes it (`std::to_string`, `%f`: six decimals, every
 * integer digit): `formatFloatFixed(1.5)` is `1.500000`, `formatFloatFixed(1e-7)` is `0.000000`.
 */
export function formatFloatFixed(x: number): string {
  const nf = nonFinite(x);
  if (nf !== null) return nf;
  const sign = signBit(x) ? '-' : '';
  if (x === 0) return `${sign}0.000000`;
  const { digits, exp10 } = exactDecimal(Math.abs(x));
  return sign + withPoint(roundAt(digits, exp10, -6), 6);
}
