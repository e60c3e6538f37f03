with import ./data/lib.nix;
{ fod = mk { name = "fod"; outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = helloHex; }; }
