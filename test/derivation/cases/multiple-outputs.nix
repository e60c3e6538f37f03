with import ./data/lib.nix;
let d = mk { name = "multi"; outputs = [ "out" "dev" "lib" ]; };
in { inherit d; dev = d.dev; lib = d.lib; first = d.outputName; }
