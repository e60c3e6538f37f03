with import ./data/lib.nix;
{ fod = mk { name = "fod-sri"; outputHash = helloSRI; }; }
