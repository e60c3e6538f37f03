with import ./data/lib.nix;
let
  a = builtins.path { path = ./data/hello.txt; recursive = false; sha256 = helloHex; name = "flat-hello"; };
  b = builtins.path { path = ./data/dir; sha256 = "10ax6dzbr0srr751qn4l8bvafipliajbck2cxar89s48fv0n41a4"; };
  c = builtins.path { path = ./data/hello.txt; recursive = false; sha256 = helloHex; };
in { inherit a b c; d = mk { name = "uses-fixed"; inherit a b c; }; }
