with import ./data/lib.nix;
let p = builtins.path { path = ./data/dir; name = "renamed-dir"; };
    f = builtins.path { path = ./data/hello.txt; };
in { inherit p f; d = mk { name = "bp"; inherit p f; }; }
