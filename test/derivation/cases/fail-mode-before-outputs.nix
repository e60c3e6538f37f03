with import ./data/lib.nix;
# attributes are processed in byte order: outputHashMode is checked before outputs
{ d = mk { name = "x"; outputHashMode = "text"; outputs = [ "drv" ]; }; }
