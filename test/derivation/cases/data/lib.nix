# Shared helpers for the derivation cases.
rec {
  system = "x86_64-linux";
  mk = attrs: derivation ({ inherit system; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; } // attrs);
  # sha256 of "hello\n" in several forms
  helloHex = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
  helloB32 = "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq";
  helloSRI = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=";
  # NAR sha256 of a file containing "hello\n"
  helloNarSRI = "sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=";
}
