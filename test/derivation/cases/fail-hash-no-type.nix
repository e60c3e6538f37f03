with import ./data/lib.nix;
{ d = mk { name = "x"; outputHashAlgo = "foo"; outputHash = helloHex; }; }
