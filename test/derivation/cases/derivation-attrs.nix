with import ./data/lib.nix;
let d = mk { name = "shape"; outputs = [ "out" "dev" ]; meta = "m"; };
in {
  names = builtins.attrNames d;
  outputName = d.outputName;
  devName = d.dev.outputName;
  all = map (x: x.outputName) d.all;
  typeAttr = d.type;
  drvAttrNames = builtins.attrNames d.drvAttrs;
  strict = builtins.attrNames (derivationStrict { name = "shape"; system = system; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; outputs = [ "out" "dev" ]; meta = "m"; });
}
