with import ./data/lib.nix;
let tool = mk { name = "tool"; };
    fod = derivation { name = "fetched"; inherit system; builder = "${tool}/bin/fetch"; src = ./data/hello.txt; outputHash = helloSRI; };
in { inherit fod; user = mk { name = "fetch-user"; inherit fod; }; }
