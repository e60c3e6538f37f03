with import ./data/lib.nix;
{ f = mk { name = "fod-empty"; outputHashAlgo = "sha256"; outputHash = ""; }; }
