with import ./data/lib.nix;
let sh = mk { name = "bash"; };
in { d = derivation { name = "built-by-drv"; inherit system; builder = "${sh}/bin/sh"; args = [ "-c" "true" ]; }; }
