// eval/builtins/constants: the constants of the global scope and `builtins` (true, false,
// null, currentSystem, currentTime, storeDir, nixPath, langVersion, nixVersion), `placeholder`,
// and `derivation`, which is written in the language itself around derivationStrict.
// Never does IO (currentTime asks the host).

import { SourceFile } from '../../base/source.js';
import { sha256, toNixBase32 } from '../../base/hash.js';
import { forceStringNoCtx } from '../ops.js';
import type { EvalState } from '../state.js';
import type { BuiltinDef } from '../value.js';

/**
 * `derivation attrs`: calls derivationStrict, then returns the set of the first output; every
 * output's set holds the input attrs, all outputs by name, `all`, `drvAttrs`, `drvPath`,
 * `outPath`, `outputName` and `type = "derivation"`.
 */
const DERIVATION_SOURCE = `
drvAttrs@{ outputs ? [ "out" ], ... }:
let
  strict = derivationStrict drvAttrs;
  outputSet = outputName: {
    name = outputName;
    value = common // {
      outPath = builtins.getAttr outputName strict;
      drvPath = strict.drvPath;
      type = "derivation";
      inherit outputName;
    };
  };
  outputSets = map outputSet outputs;
  common = drvAttrs // (builtins.listToAttrs outputSets) // {
    all = map (o: o.value) outputSets;
    inherit drvAttrs;
  };
in (builtins.head outputSets).value
`;

export const CONSTANT_BUILTINS: BuiltinDef[] = [
  { name: 'true', arity: 0, doc: 'true: the Boolean true.', impl: () => true },
  { name: 'false', arity: 0, doc: 'false: the Boolean false.', impl: () => false },
  { name: 'null', arity: 0, doc: 'null: the null value.', impl: () => null },
  { name: 'currentSystem', arity: 0, doc: 'currentSystem: the platform being evaluated for, e.g. "x86_64-linux".', impl: (st: EvalState) => st.system },
  { name: 'currentTime', arity: 0, doc: 'currentTime: the Unix time at which evaluation started (impure).', impl: (st: EvalState) => st.host.currentTime() },
  { name: 'storeDir', arity: 0, doc: 'storeDir: the logical store directory, "/nix/store".', impl: (st: EvalState) => st.storeDir },
  { name: 'nixPath', arity: 0, doc: 'nixPath: the search path as a list of { prefix; path; } (from -I, IMG_PATH and NIX_PATH).', impl: (st: EvalState) => st.nixPathValue() },
  { name: 'langVersion', arity: 0, doc: 'langVersion: the version of the language, 6.', impl: () => 6 },
  { name: 'nixVersion', arity: 0, doc: 'nixVersion: the version of Nix whose semantics are implemented, "2.8.0".', impl: () => '2.8.0' },
  {
    name: 'placeholder',
    arity: 1,
    doc: 'placeholder output: the string a builder sees in place of the path of output (/<hash>).',
    impl: (_st, span, a) => '/' + toNixBase32(sha256(Buffer.from(`nix-output:${forceStringNoCtx(a, span)}`, 'latin1'))),
  },
  {
    name: 'derivation',
    arity: 0,
    doc: 'derivation attrs: a derivation (written in the language around derivationStrict); its value is the set of its first output.',
    impl: (st: EvalState) => st.evalSource(new SourceFile('<derivation>', DERIVATION_SOURCE, '/')),
  },
];
