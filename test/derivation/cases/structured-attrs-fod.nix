with import ./data/lib.nix;
{
  d = mk { name = "structured-fod"; __structuredAttrs = true; __ignoreNulls = true; skipped = null; outputHash = helloSRI; outputHashMode = "flat"; };
}
