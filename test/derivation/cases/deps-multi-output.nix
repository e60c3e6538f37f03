with import ./data/lib.nix;
let lib = mk { name = "lib"; outputs = [ "out" "dev" "doc" ]; };
in { app = mk { name = "app"; inc = "${lib.dev}/include"; link = lib.out; }; }
