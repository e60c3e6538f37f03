# A list of derivations (and of lists of them), one using a source directory.
let
  mk = name: attrs: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; } // attrs);
in [
  (mk "first" { src = ./list.nix; })
  [ (mk "nested" { }) ]
  (mk "fod" { outputHash = "sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM="; outputHashMode = "recursive"; })
]
