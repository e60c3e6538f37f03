with import ./data/lib.nix;
{ d = mk { name = "x"; outputHashAlgo = "sha256"; outputHash = "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4ae"; }; }
