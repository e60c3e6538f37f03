with import ./data/lib.nix;
{
  a = mk { name = "a+b-c.d_e?f=g"; };
  b = mk { name = ".hidden"; };
  c = mk { name = "1"; };
  d = mk { name = "with-version-1.2.3"; outputs = [ "out" "man" ]; };
}
