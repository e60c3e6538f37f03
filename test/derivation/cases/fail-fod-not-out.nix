with import ./data/lib.nix;
{ d = mk { name = "x"; outputs = [ "bin" ]; outputHash = helloSRI; }; }
