with import ./data/lib.nix;
{ f = mk { name = "fod-md5"; outputHashAlgo = "md5"; outputHash = builtins.hashString "md5" "x"; }; }
