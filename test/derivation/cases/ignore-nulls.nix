with import ./data/lib.nix;
{
  d = mk { name = "ignore-nulls"; __ignoreNulls = true; a = null; b = "kept"; c = [ null ]; outputHash = null; };
  e = mk { name = "keep-nulls"; __ignoreNulls = false; a = null; };
}
