with import ./data/lib.nix;
let dep = mk { name = "dep"; outputs = [ "out" "dev" ]; };
in {
  d = mk {
    name = "structured";
    __structuredAttrs = true;
    outputs = [ "out" "bin" ];
    int = 42; float = 1.5; float2 = 0.1; float3 = 1.0e20; float4 = 123456789.0;
    yes = true; no = false; nothing = null;
    str = "a \"q\" \\ \n \t ü";
    list = [ 1 "two" [ 3 ] { four = 4; } ];
    set = { b = 1; a = { c = [ ]; }; "z z" = null; };
    path = ./data/hello.txt;
    drv = dep;
    devOut = dep.dev;
    ctx = "${dep}/bin";
    toStr = { __toString = self: "ts"; };
    exportReferencesGraph = { closure = [ dep ]; };
  };
}
