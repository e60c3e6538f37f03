# A set as nix-instantiate sees it: derivations one level deep, nested sets only with
# recurseForDerivations, lists, outputs other than "out", non-derivations ignored.
let
  mk = name: attrs: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo ${name} > $out" ]; } // attrs);
  multi = mk "multi" { outputs = [ "out" "dev" "lib" ]; };
  src = builtins.toFile "note.txt" "a note\n";
in {
  a = mk "a" { };
  b = mk "b" { dep = multi.dev; inherit src; };
  dev = multi.dev;
  notADrv = 42;
  hidden = { x = mk "hidden" { }; };
  shown = { recurseForDerivations = true; y = mk "shown" { }; z = { w = mk "not-shown" { }; }; };
  list = [ (mk "l0" { }) (mk "l1" { drv = multi.drvPath; }) ];
  same = mk "a" { };
}
