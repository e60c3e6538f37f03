with import ./data/lib.nix;
{ f = mk { name = "fod-sha1"; outputHashMode = "recursive"; outputHashAlgo = "sha1"; outputHash = builtins.hashString "sha1" "x"; }; }
