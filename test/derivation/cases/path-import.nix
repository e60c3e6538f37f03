with import ./data/lib.nix;
{ d = mk { name = "path-import"; src = ./data/hello.txt; dir = ./data/dir; script = ./data/script.sh; }; }
