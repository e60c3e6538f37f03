{ p = builtins.path { path = ./data/hello.txt; name = "a b"; }; }
