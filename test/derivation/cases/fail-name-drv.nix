with import ./data/lib.nix;
{ d = mk { name = "x.drv"; }; }
