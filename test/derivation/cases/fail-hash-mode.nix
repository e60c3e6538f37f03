with import ./data/lib.nix;
{ d = mk { name = "x"; outputHashMode = "text"; outputHash = helloSRI; }; }
