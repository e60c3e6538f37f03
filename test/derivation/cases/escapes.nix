with import ./data/lib.nix;
{ d = mk { name = "escapes"; quote = "a \"quoted\" \\ back"; nl = "line1\nline2\r\n\ttab"; ctrl = "bell: esc: del:"; dollar = "$out \${x} $$"; }; }
