{ d = derivationStrict { name = "x"; system = "x86_64-linux"; }; }
