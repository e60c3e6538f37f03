with import ./data/lib.nix;
let
  dep = mk { name = "ctx-dep"; outputs = [ "out" "dev" ]; };
  f = builtins.toFile "f" "x";
in {
  d = mk {
    name = "ctx";
    discarded = builtins.unsafeDiscardStringContext "${dep}";
    plainDrv = builtins.unsafeDiscardOutputDependency dep.drvPath;
    sub = builtins.substring 0 20 "${dep.dev}";
    joined = builtins.concatStringsSep ":" [ "${dep}" f ];
    replaced = builtins.replaceStrings [ "nix" ] [ "NIX" ] "${f}";
  };
}
