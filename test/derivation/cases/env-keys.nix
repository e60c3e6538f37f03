with import ./data/lib.nix;
{ d = mk { name = "env-keys"; B = "1"; _ = "2"; a = "3"; "a b" = "4"; "" = "empty key"; "Z" = "5"; "0" = "6"; }; }
