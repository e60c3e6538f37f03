with import ./data/lib.nix;
let
  src = builtins.toFile "src.txt" "source";
  a = mk { name = "a"; inherit src; outputs = [ "out" "bin" ]; };
  b = mk { name = "b"; a = a.bin; };
in { c = mk { name = "c"; drv = b.drvPath; }; }
