with import ./data/lib.nix;
{
  s = "${./data/dir}";
  d = mk { name = "path-interp"; cmd = "cat ${./data/hello.txt} ${./data/dir}/a.txt"; args = [ "${./data/script.sh}" ]; };
}
