with import ./data/lib.nix;
{ d = mk { name = "x"; outputHashAlgo = "sha256"; outputHash = "abc"; }; }
