with import ./data/lib.nix;
# outputs given as a string: tokenized on whitespace
{ d = derivation { name = "outputs-string"; inherit system; builder = "/bin/sh"; outputs = " out\tdev\nman "; }; }
