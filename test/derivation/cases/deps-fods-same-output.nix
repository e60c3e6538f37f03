with import ./data/lib.nix;
let
  # two different fixed-output derivations with the same output path
  f1 = mk { name = "src"; outputHash = helloSRI; args = [ "one" ]; };
  f2 = mk { name = "src"; outputHash = helloSRI; args = [ "two" ]; };
  u1 = mk { name = "u"; s = f1; };
  u2 = mk { name = "u"; s = f2; };
in { inherit f1 f2 u1 u2; both = mk { name = "both"; a = f1; b = f2; }; }
