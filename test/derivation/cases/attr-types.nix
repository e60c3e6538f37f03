with import ./data/lib.nix;
let dep = mk { name = "dep"; };
in {
  d = mk {
    name = "attr-types";
    int = 42; neg = -7; big = 9223372036854775807;
    float = 1.5; float2 = 0.1; float3 = 1.0e20; float4 = -2.25e-7;
    yes = true; no = false; nothing = null;
    list = [ "a" 1 "b" true false null 2.5 ];
    nested = [ [ 1 2 ] [ ] "x" [ [ "y" ] [ ] ] [ ] "z" [ ] ];
    empty = [ ];
    emptyStr = "";
    path = ./data/hello.txt;
    drv = dep;
    withCtx = "prefix-${dep}-suffix";
    toStr = { __toString = self: "from __toString"; };
    outPathSet = { outPath = "/some/path"; };
    pathList = [ ./data/hello.txt "${dep}" ];
  };
}
