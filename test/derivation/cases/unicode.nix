with import ./data/lib.nix;
{ d = mk { name = "unicode"; "ünïcödé" = "日本語 — ✓"; emoji = "🐳 docker"; latin = "café"; }; }
