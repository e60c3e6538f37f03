with import ./data/lib.nix;
let a = mk { name = "same"; };
    b = mk { name = "same"; };
in { inherit a b; eq = a.drvPath == b.drvPath; }
