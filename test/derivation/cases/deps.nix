with import ./data/lib.nix;
let dep = mk { name = "dep"; };
in { top = mk { name = "top"; dep = dep; args = [ "-c" "cp ${dep} $out" ]; }; }
