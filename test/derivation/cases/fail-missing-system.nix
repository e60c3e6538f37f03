{ d = derivationStrict { name = "x"; builder = "/bin/sh"; }; }
