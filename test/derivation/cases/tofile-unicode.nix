{
  a = builtins.toFile "unicode.txt" "ünïcödé ✓\n";
  b = builtins.toFile "empty" "";
  c = builtins.toFile ".dot" "x";
}
