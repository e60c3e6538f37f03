with import ./data/lib.nix;
let
  fod = mk { name = "fod"; outputHash = helloSRI; };
  fodr = mk { name = "fodr"; outputHashMode = "recursive"; outputHash = helloNarSRI; };
in { user = mk { name = "user"; a = fod; b = fodr; }; }
