with import ./data/lib.nix;
# 208 characters: the outputs are fine but the .drv name has 212
{ d = mk { name = builtins.concatStringsSep "" (builtins.genList (x: "n") 208); }; }
