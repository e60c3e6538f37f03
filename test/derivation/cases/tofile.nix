with import ./data/lib.nix;
let
  a = builtins.toFile "a.txt" "hello\n";
  b = builtins.toFile "b.sh" "cat ${a}\n";
  c = builtins.toFile "c" "${a} ${b} ${./data/hello.txt}";
in { inherit a b c; d = mk { name = "uses-files"; inherit c; }; }
