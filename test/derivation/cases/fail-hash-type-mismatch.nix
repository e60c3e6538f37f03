with import ./data/lib.nix;
{ d = mk { name = "x"; outputHashAlgo = "sha1"; outputHash = helloSRI; }; }
