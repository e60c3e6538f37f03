with import ./data/lib.nix;
{ d = mk { name = "x"; __structuredAttrs = true; outputs = [ "out" "b@d" ]; }; }
