# A function auto-called with --arg / --argstr, and -A selection.
{ greeting ? "hello", n }:
{
  pkg = derivation { name = "greet-${toString n}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo ${greeting} > $out" ]; };
  other = derivation { name = "other"; system = "x86_64-linux"; builder = "/bin/sh"; __structuredAttrs = true; n = n; };
}
