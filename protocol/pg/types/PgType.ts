/** A PostgreSQL type as it appears in RowDescription and ParameterDescription. */
export interface PgType {
  /** pg_type.oid */
  readonly oid: number;
  /** pg_type.typname, e.g. `int4`, `_text`. */
  readonly name: string;
  /** pg_type.typlen: byte width, or -1 for varlena. */
  readonly typlen: number;
  /** atttypmod: -1 when none; numeric(p,s) is ((p << 16) | s) + 4, varchar(n) is n + 4. */
  readonly typmod: number;
}

/** Session state that changes how values are written as text. */
export interface EncodeOptions {
  /**
   * The session's TimeZone setting, read as PostgreSQL reads it: an IANA zone name (`Europe/Paris`,
   * `UTC`) or a POSIX-style offset counted WEST of Greenwich (`+02:00` and `UTC+2` are two hours
   * behind UTC, `<+02>-02` two hours ahead). timestamptz text is rendered in it (TimeZone.ts).
   */
  readonly timeZone: string;
  /** PostgreSQL's extra_float_digits: > 0 means shortest round-trip output (the default, 1). */
  readonly extraFloatDigits: number;
}

/**
 * How one result column is written. Chosen once per column when the RowDescription is built, then
 * called for every non-null value of that column. Values are what @duckdb/node-api's vectors return
 * from getItem(): number, bigint, boolean, string, Uint8Array-backed blobs and DuckDB*Value objects.
 */
export interface ColumnCodec {
  readonly type: PgType;
  /** PostgreSQL's text output for a non-null value, byte for byte. */
  text(value: unknown, options: EncodeOptions): string;
  /** PostgreSQL's binary send format for a non-null value; bytes the caller may keep (never a reused buffer). */
  binary(value: unknown, options: EncodeOptions): Uint8Array;
}
