/**
 * PostgreSQL's numeric text for a DuckDB DECIMAL: the unscaled integer with the point `scale` digits
 * from the right, every scale digit kept (`1.50` for DECIMAL(10,2) 1.5). Scale 0 is the integer.
 */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale === 0) return String(unscaled);
  const negative = unscaled < 0n;
  let digits = String(negative ? -unscaled : unscaled);
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  const point = digits.length - scale;
  const text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${text}` : text;
}
