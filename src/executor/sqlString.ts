/** A SQL string literal for `text`, for the few statements the executor writes itself. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
