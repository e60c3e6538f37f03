with import ./data/lib.nix;
let p = builtins.filterSource (path: type: type == "directory" || baseNameOf path == "run") ./data/dir;
in { inherit p; d = mk { name = "fs"; src = p; }; }
