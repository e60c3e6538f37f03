# Sources copied to the store: a directory by interpolation, filterSource, builtins.path with a
# filter and a name, builtins.path of a path inside the store (Nix 2.8 adds no references),
# flat and recursive; toFile referring to a source.
let
  note = builtins.toFile "note" "see ${./data/tree/a.txt}";
  inStore = builtins.toFile "a" "x ${builtins.toFile "b" "y"}";
in derivation {
  name = "sources";
  system = "x86_64-linux";
  builder = "/bin/sh";
  tree = "${./data/tree}";
  filtered = builtins.filterSource (p: t: !(builtins.match ".*\\.me" p != null)) ./data/tree;
  named = builtins.path { path = ./data/tree; name = "named-tree"; filter = p: t: t != "directory"; };
  copy = builtins.path { path = inStore; name = "copy"; };
  flat = builtins.path { path = ./data/tree/a.txt; recursive = false; };
  inherit note;
}
