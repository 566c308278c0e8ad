import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';

// The errors PostgreSQL raises for bad parameter values, with its SQLSTATEs and wording.

/** 22P02 `invalid input syntax for type integer: "abc"`. */
export function invalidSyntax(typeName: string, text: string, detail?: string): PgError {
  return new PgError(
    SqlState.InvalidTextRepresentation,
    `invalid input syntax for type ${typeName}: "${text}"`,
    detail === undefined ? {} : { detail },
  );
}

/** 22003 `value "99999999999" is out of range for type integer`. */
export function valueOutOfRange(typeName: string, text: string): PgError {
  return new PgError(SqlState.NumericValueOutOfRange, `value "${text}" is out of range for type ${typeName}`);
}

/** 22003 `"1e400" is out of range for type double precision`. */
export function floatOutOfRange(typeName: string, text: string): PgError {
  return new PgError(SqlState.NumericValueOutOfRange, `"${text}" is out of range for type ${typeName}`);
}

/** 22007 `invalid input syntax for type date: "x"` (date/time types use the datetime SQLSTATE). */
export function invalidDatetime(typeName: string, text: string): PgError {
  return new PgError(SqlState.InvalidDatetimeFormat, `invalid input syntax for type ${typeName}: "${text}"`);
}

/** 22008 `date/time field value out of range: "2020-13-01"`. */
export function datetimeOutOfRange(text: string): PgError {
  return new PgError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${text}"`);
}

/**
 * 22P03 for a binary parameter whose bytes do not fit its type's receive format; PostgreSQL says
 * `incorrect binary data format in bind parameter N`.
 */
export function badBinary(typeName: string, parameterNumber: number | undefined, detail?: string): PgError {
  const where = parameterNumber === undefined ? '' : ` in bind parameter ${parameterNumber}`;
  return new PgError(SqlState.InvalidBinaryRepresentation, `incorrect binary data format${where}`, {
    detail: detail ?? `The bytes are not a valid ${typeName} in binary format.`,
  });
}
