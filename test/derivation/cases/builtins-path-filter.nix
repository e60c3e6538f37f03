with import ./data/lib.nix;
let p = builtins.path { path = ./data/dir; name = "filtered"; filter = path: type: type != "symlink" && baseNameOf path != "B"; };
in { inherit p; d = mk { name = "bpf"; src = p; }; }
