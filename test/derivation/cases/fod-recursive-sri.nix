with import ./data/lib.nix;
{ fodr = mk { name = "fodr"; outputHashMode = "recursive"; outputHash = helloNarSRI; }; }
