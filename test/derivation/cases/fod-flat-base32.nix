with import ./data/lib.nix;
{ fod = mk { name = "fod"; outputHashAlgo = "sha256"; outputHash = helloB32; }; }
