with import ./data/lib.nix;
{ d = mk { name = "x"; outputs = [ "out" "dev" ]; outputHash = helloSRI; }; }
