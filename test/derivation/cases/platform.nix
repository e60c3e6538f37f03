{
  darwin = derivation { name = "darwin"; system = "aarch64-darwin"; builder = "/bin/sh"; };
  builtin = derivation { name = "fetch"; system = "builtin"; builder = "builtin:fetchurl"; url = "http://example.org/x"; outputHash = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="; };
}
