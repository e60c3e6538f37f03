with import ./data/lib.nix;
let d = mk { name = "dep"; };
in { f = builtins.toFile "x" "ref ${d}"; }
