// eval/lib/xml: the attribute escaping of Nix 2.8's XMLWriter, used by `builtins.toXML` and
// `nix-instantiate --xml` for every attribute value (`<string value="...">`, `<attr name=...>`,
// `<float value=...>`, ...). Nix escapes only `"` `<` `>` `&` and the newline (`&#xA;`, so that
// XML attribute normalisation keeps it); every other byte, control characters and UTF-8
// included, is written raw. It never sees evaluator values: it works on latin1 byte strings.

/** An attribute value escaped as Nix's XMLWriter writes it (without the surrounding quotes). */
export function escapeXMLAttr(s: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    let rep: string;
    switch (s.charCodeAt(i)) {
      case 0x22:
        rep = '&quot;';
        break;
      case 0x3c:
        rep = '&lt;';
        break;
      case 0x3e:
        rep = '&gt;';
        break;
      case 0x26:
        rep = '&amp;';
        break;
      case 0x0a:
        rep = '&#xA;';
        break;
      default:
        continue;
    }
    out += s.slice(start, i) + rep;
    start = i + 1;
  }
  return start === 0 ? s : out + s.slice(start);
}

/**
 * The attributes of an XML element as XMLWriter writes them: ` name="value"` for each, in
 * bytewise name order (Nix keeps them in a std::map), values escaped.
 */
export function xmlAttrs(attrs: Iterable<readonly [string, string]>): string {
  const sorted = [...attrs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let out = '';
  for (const [name, value] of sorted) out += ` ${name}="${escapeXMLAttr(value)}"`;
  return out;
}
