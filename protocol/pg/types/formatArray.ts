// PostgreSQL's array text output (array_out): `{a,b,NULL}`, nested as `{{1,2},{3,4}}`. An element is
// double-quoted when it is empty, spells NULL in any case, or holds `{`, `}`, `,`, `"`, `\` or
// whitespace; inside quotes `"` and `\` are backslash-escaped.

function needsQuotes(text: string): boolean {
  const n = text.length;
  if (n === 0) return true;
  if (n === 4) {
    const lower = text.toLowerCase();
    if (lower === 'null') return true;
  }
  for (let i = 0; i < n; i++) {
    switch (text.charCodeAt(i)) {
      case 0x7b: // {
      case 0x7d: // }
      case 0x2c: // ,
      case 0x22: // "
      case 0x5c: // \
      case 0x20: // space
      case 0x09: // \t
      case 0x0a: // \n
      case 0x0b: // \v
      case 0x0c: // \f
      case 0x0d: // \r
        return true;
      default:
        break;
    }
  }
  return false;
}

/** One element's text as array_out writes it inside `{...}`. */
export function arrayElementText(text: string): string {
  if (!needsQuotes(text)) return text;
  let out = '"';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      out += `${text.slice(from, i)}\\`;
      from = i;
    }
  }
  return `${out + text.slice(from)}"`;
}
