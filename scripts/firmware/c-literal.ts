// C/C++ string literals for generated headers. Octal escapes are used for everything outside
// printable ASCII because, unlike \x, they stop after three digits and cannot swallow the next
// character.

const SIMPLE_ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "?": "\\?" };

/** One literal holding exactly the UTF-8 bytes of `value`. */
export function cStringLiteral(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, "utf8")) {
    const ch = String.fromCharCode(byte);
    if (SIMPLE_ESCAPES[ch]) out += SIMPLE_ESCAPES[ch];
    else if (byte >= 0x20 && byte < 0x7f) out += ch;
    else out += "\\" + byte.toString(8).padStart(3, "0");
  }
  return out + '"';
}

/** Multi-line text (a PEM) as adjacent literals, one source line per text line. */
export function cMultilineLiteral(value: string, indent = "  "): string {
  if (value === "") return '""';
  const lines = value.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return lines.map((line) => indent + cStringLiteral(line)).join("\n");
}
