with import ./data/lib.nix;
let
  base = mk { name = "base"; outputs = [ "out" "dev" ]; };
  left = mk { name = "left"; b = base; };
  right = mk { name = "right"; b = base.dev; };
in { top = mk { name = "top"; inherit left right; both = "${base.dev} ${base.out}"; }; }
