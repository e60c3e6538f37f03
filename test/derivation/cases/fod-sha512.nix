with import ./data/lib.nix;
{
  hex = mk { name = "fod-sha512"; outputHashAlgo = "sha512"; outputHash = builtins.hashString "sha512" "x"; };
  sri = mk { name = "fod-sha512-sri"; outputHashMode = "recursive"; outputHash = "sha512-" + "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="; };
}
