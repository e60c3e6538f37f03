with import ./data/lib.nix;
{ d = mk { name = "has space"; }; }
