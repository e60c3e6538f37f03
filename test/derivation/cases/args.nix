with import ./data/lib.nix;
let dep = mk { name = "dep"; };
in {
  d = mk { name = "args"; args = [ "" "-c" "echo \"hi\"\tthere\n" 42 true null 1.5 [ "x" "y" ] ./data/hello.txt dep ]; };
  e = mk { name = "no-args"; args = [ ]; };
}
