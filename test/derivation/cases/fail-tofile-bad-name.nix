{ f = builtins.toFile "a/b" "x"; }
