with import ./data/lib.nix;
let d = mk { name = "order"; outputs = [ "z" "a" "out" ]; };
in { inherit d; first = d.outputName; path = d.outPath; }
