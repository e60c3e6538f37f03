with import ./data/lib.nix;
{
  b32 = mk { name = "fod-prefixed"; outputHash = "sha256:${helloB32}"; };
  hex = mk { name = "fod-prefixed-hex"; outputHashMode = "recursive"; outputHash = "sha256:${helloHex}"; outputHashAlgo = "sha256"; };
}
