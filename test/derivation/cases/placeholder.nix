with import ./data/lib.nix;
{
  p = builtins.placeholder "out";
  d = mk { name = "placeholder"; outputs = [ "out" "dev" ]; cmd = "mkdir ${placeholder "out"} ${placeholder "dev"}"; args = [ (placeholder "bin") ]; };
}
