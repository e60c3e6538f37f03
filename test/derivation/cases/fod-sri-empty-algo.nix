with import ./data/lib.nix;
{
  a = mk { name = "fod-empty-algo"; outputHashAlgo = ""; outputHash = helloSRI; };
  # an unknown algorithm name counts as "no type" when the hash carries one
  b = mk { name = "fod-unknown-algo"; outputHashAlgo = "foo"; outputHash = helloSRI; };
  c = mk { name = "fod-unpadded"; outputHash = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM"; };
}
