with import ./data/lib.nix;
let step = n: prev: mk { name = "step-${toString n}"; inherit prev; };
    chain = builtins.foldl' (acc: n: step n acc) "" (builtins.genList (x: x) 12);
in { inherit chain; }
