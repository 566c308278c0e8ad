import {
  arrayValue,
  DuckDBBitValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBIntervalValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeTZValue,
  DuckDBTimeValue,
  type DuckDBType,
  DuckDBTypeId,
  DuckDBUUIDValue,
  type DuckDBValue,
  listValue,
} from '@duckdb/node-api';
import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';
import { TIMESTAMP_NEG_INF, TIMESTAMP_POS_INF } from './calendar.js';
import { decodeUtf8 } from './decodeUtf8.js';
import { badBinary, valueOutOfRange } from './inputErrors.js';
import { type ArrayLiteral, parseArray } from './parseArray.js';
import { parseBit } from './parseBit.js';
import { parseBytea } from './parseBytea.js';
import {
  type DateTimeContext,
  parseDate,
  parseTime,
  parseTimestamp,
  parseTimestamptz,
  parseTimetz,
} from './parseDateTime.js';
import { parseInterval } from './parseInterval.js';
import {
  fitDecimal,
  type NumericInput,
  numericToInteger,
  parseBool,
  parseFloatValue,
  parseInteger,
  parseNumeric,
} from './parseNumber.js';
import { parseUuid } from './parseUuid.js';
import { isJsonType } from './pgTypeFor.js';
import {
  receiveArray,
  receiveDate,
  receiveFloat,
  receiveInteger,
  receiveInterval,
  receiveNumeric,
  receiveTime,
  receiveTimestamp,
  receiveTimetz,
  receiveUuid,
  receiveVarbit,
} from './receiveBinary.js';
import { timeZoneFor } from './TimeZone.js';

/** Session state parameter decoding depends on. */
export interface DecodeOptions {
  /** The session TimeZone, for timestamptz/timetz text that names no zone. Defaults to UTC. */
  readonly timeZone?: string;
  /** The 1-based parameter number, for PostgreSQL's `... in bind parameter N` messages. */
  readonly parameterNumber?: number;
}

interface Context extends DateTimeContext {
  readonly parameterNumber: number | undefined;
}

// [DuckDB name used in messages, min, max] for the integer types.
const INTEGER_RANGES: Partial<Record<DuckDBTypeId, readonly [string, bigint, bigint]>> = {
  [DuckDBTypeId.TINYINT]: ['tinyint', -128n, 127n],
  [DuckDBTypeId.SMALLINT]: ['smallint', -32768n, 32767n],
  [DuckDBTypeId.INTEGER]: ['integer', -2147483648n, 2147483647n],
  [DuckDBTypeId.BIGINT]: ['bigint', -9223372036854775808n, 9223372036854775807n],
  [DuckDBTypeId.UTINYINT]: ['utinyint', 0n, 255n],
  [DuckDBTypeId.USMALLINT]: ['usmallint', 0n, 65535n],
  [DuckDBTypeId.UINTEGER]: ['uinteger', 0n, 4294967295n],
  [DuckDBTypeId.UBIGINT]: ['ubigint', 0n, 18446744073709551615n],
  [DuckDBTypeId.HUGEINT]: ['hugeint', -(2n ** 127n), 2n ** 127n - 1n],
  [DuckDBTypeId.UHUGEINT]: ['uhugeint', 0n, 2n ** 128n - 1n],
  [DuckDBTypeId.BIGNUM]: ['bignum', -(10n ** 4000n), 10n ** 4000n],
  [DuckDBTypeId.INTEGER_LITERAL]: ['numeric', -(2n ** 127n), 2n ** 127n - 1n],
};

// Integer types presented as numeric (pgTypeFor), so their input follows numeric's syntax.
function isNumericInteger(id: DuckDBTypeId): boolean {
  return (
    id === DuckDBTypeId.UBIGINT ||
    id === DuckDBTypeId.HUGEINT ||
    id === DuckDBTypeId.UHUGEINT ||
    id === DuckDBTypeId.BIGNUM ||
    id === DuckDBTypeId.INTEGER_LITERAL
  );
}

// JS number for the types @duckdb/node-api binds from numbers, bigint for the rest.
function integerValue(id: DuckDBTypeId, value: bigint): number | bigint {
  switch (id) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return Number(value);
    default:
      return value;
  }
}

/**
 * A Bind parameter's bytes as the DuckDB value for a parameter of DuckDB type `type`. Format 0 is
 * PostgreSQL's text input syntax for pgTypeFor(type); format 1 is that type's binary send format.
 * Bad input raises PgError with PostgreSQL's SQLSTATE and wording (22P02 `invalid input syntax for type
 * integer: "abc"`, 22003, 22007/22008 for dates and times, 22021 for bad UTF-8, 22P03 for binary).
 *
 * The value's JS kind is what DuckDBPreparedStatement.bind expects for `type` (number, bigint,
 * DuckDBDecimalValue, DuckDBTimestampValue, listValue(...), ...), except for STRUCT, MAP, UNION,
 * VARIANT, GEOMETRY and other types PostgreSQL has no counterpart for: those come back as their text
 * (DuckDB's literal form, e.g. `{'a': 1}`), to be bound as VARCHAR so DuckDB casts it.
 */
export function decodeParam(
  type: DuckDBType,
  format: 0 | 1,
  bytes: Uint8Array,
  options: DecodeOptions = {},
): DuckDBValue {
  const context: Context = {
    zone: timeZoneFor(options.timeZone ?? 'UTC'),
    parameterNumber: options.parameterNumber,
  };
  if (format === 1) return fromBinary(type, bytes, context);
  if (type.typeId === DuckDBTypeId.BLOB) return new DuckDBBlobValue(parseBytea(bytes));
  return fromText(type, decodeUtf8(bytes), context);
}

function fromText(type: DuckDBType, text: string, context: Context): DuckDBValue {
  const id = type.typeId;
  switch (id) {
    case DuckDBTypeId.BOOLEAN:
      return parseBool(text);
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.INTEGER_LITERAL: {
      const [name, min, max] = INTEGER_RANGES[id]!;
      if (isNumericInteger(id)) return numericToInteger(parseNumeric(text, name), name, text, min, max);
      return integerValue(id, parseInteger(text, name, min, max));
    }
    case DuckDBTypeId.FLOAT:
      return parseFloatValue(text, true);
    case DuckDBTypeId.DOUBLE:
      return parseFloatValue(text, false);
    case DuckDBTypeId.DECIMAL:
      return new DuckDBDecimalValue(
        fitDecimal(parseNumeric(text), type.width, type.scale),
        type.width,
        type.scale,
      );
    case DuckDBTypeId.VARCHAR:
      if (isJsonType(type)) checkJson(text);
      return text;
    case DuckDBTypeId.ENUM:
      if (!(text in type.valueIndexes)) {
        throw new PgError(
          SqlState.InvalidTextRepresentation,
          `invalid input value for enum ${type.alias ?? type.toString()}: "${text}"`,
        );
      }
      return text;
    case DuckDBTypeId.BLOB:
      return new DuckDBBlobValue(parseBytea(Buffer.from(text, 'utf8')));
    case DuckDBTypeId.DATE:
      return new DuckDBDateValue(parseDate(text, context));
    case DuckDBTypeId.TIME:
      return new DuckDBTimeValue(BigInt(parseTime(text, context)));
    case DuckDBTypeId.TIME_NS:
      return new DuckDBTimeNSValue(BigInt(parseTime(text, context)) * 1000n);
    case DuckDBTypeId.TIME_TZ: {
      const { micros, offset } = parseTimetz(text, context);
      return DuckDBTimeTZValue.fromMicrosAndOffset(BigInt(micros), offset);
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return timestampValue(id, parseTimestamp(text, context), text);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return new DuckDBTimestampTZValue(parseTimestamptz(text, context));
    case DuckDBTypeId.INTERVAL: {
      const { months, days, micros } = parseInterval(text);
      return new DuckDBIntervalValue(months, days, micros);
    }
    case DuckDBTypeId.UUID:
      return DuckDBUUIDValue.fromUint128(parseUuid(text));
    case DuckDBTypeId.BIT:
      return DuckDBBitValue.fromBits(parseBit(text));
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return listFromLiteral(type, parseArray(text), text, context);
    default:
      // STRUCT, MAP, UNION, VARIANT, GEOMETRY, ...: DuckDB's own literal text, cast by DuckDB on bind.
      return text;
  }
}

/** A TIMESTAMP or its second/millisecond/nanosecond variant from microseconds since 1970-01-01. */
function timestampValue(id: DuckDBTypeId, micros: bigint, text: string): DuckDBValue {
  const infinite = micros === TIMESTAMP_POS_INF || micros === TIMESTAMP_NEG_INF;
  switch (id) {
    case DuckDBTypeId.TIMESTAMP_S:
      return new DuckDBTimestampSecondsValue(infinite ? micros : floorDiv(micros, 1000000n));
    case DuckDBTypeId.TIMESTAMP_MS:
      return new DuckDBTimestampMillisecondsValue(infinite ? micros : floorDiv(micros, 1000n));
    case DuckDBTypeId.TIMESTAMP_NS: {
      if (infinite) return new DuckDBTimestampNanosecondsValue(micros);
      const nanos = micros * 1000n;
      if (nanos >= TIMESTAMP_POS_INF || nanos <= TIMESTAMP_NEG_INF) {
        throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: "${text}"`);
      }
      return new DuckDBTimestampNanosecondsValue(nanos);
    }
    default:
      return new DuckDBTimestampValue(micros);
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

function checkJson(text: string): void {
  try {
    JSON.parse(text);
  } catch (e) {
    throw invalidSyntaxJson(e);
  }
}

function invalidSyntaxJson(e: unknown): PgError {
  return new PgError(SqlState.InvalidTextRepresentation, 'invalid input syntax for type json', {
    detail: e instanceof Error ? e.message : String(e),
  });
}

/** The nesting depth of LIST/ARRAY in `type` and the element type under it. */
function listShape(type: DuckDBType): { depth: number; element: DuckDBType } {
  let depth = 0;
  let t = type;
  while (t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY) {
    depth++;
    t = t.valueType;
  }
  return { depth, element: t };
}

function literalDepth(literal: ArrayLiteral): number {
  let depth = 1;
  let level: ArrayLiteral = literal;
  while (level.length > 0 && Array.isArray(level[0])) {
    depth++;
    level = level[0];
  }
  return depth;
}

function listFromLiteral(
  type: DuckDBType,
  literal: ArrayLiteral,
  text: string,
  context: Context,
): DuckDBValue {
  const { depth } = listShape(type);
  if (literal.length > 0 && literalDepth(literal) !== depth) {
    throw new PgError(SqlState.InvalidTextRepresentation, `malformed array literal: "${text}"`, {
      detail: `Expected an array of ${depth} dimension${depth === 1 ? '' : 's'}, as the parameter's type is ${type.toString()}.`,
    });
  }
  return buildList(type, literal, (elementType, item) => fromText(elementType, item as string, context));
}

/** Builds nested listValue/arrayValue from nested items, converting each leaf with `leaf`. */
function buildList(
  type: DuckDBType,
  items: readonly unknown[],
  leaf: (elementType: DuckDBType, item: unknown) => DuckDBValue,
): DuckDBValue {
  if (type.typeId !== DuckDBTypeId.LIST && type.typeId !== DuckDBTypeId.ARRAY)
    throw new Error('not a list type');
  const valueType = type.valueType;
  const nested = valueType.typeId === DuckDBTypeId.LIST || valueType.typeId === DuckDBTypeId.ARRAY;
  const values: DuckDBValue[] = items.map((item) => {
    if (item === null) return null;
    return nested ? buildList(valueType, item as unknown[], leaf) : leaf(valueType, item);
  });
  if (type.typeId === DuckDBTypeId.ARRAY) {
    if (values.length !== type.length) {
      throw new PgError(
        SqlState.InvalidParameterValue,
        `array has ${values.length} elements, but the parameter's type ${type.toString()} holds exactly ${type.length}`,
      );
    }
    return arrayValue(values);
  }
  return listValue(values);
}

function fromBinary(type: DuckDBType, bytes: Uint8Array, context: Context): DuckDBValue {
  const id = type.typeId;
  const bad = (typeName: string): PgError => badBinary(typeName, context.parameterNumber);
  switch (id) {
    case DuckDBTypeId.BOOLEAN:
      if (bytes.length !== 1) throw bad('boolean');
      return bytes[0] !== 0;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER: {
      const [name, min, max] = INTEGER_RANGES[id]!;
      const value = receiveInteger(bytes, id === DuckDBTypeId.UINTEGER);
      if (value === null) throw bad(name);
      if (value < min || value > max) throw valueOutOfRange(name, String(value));
      return integerValue(id, value);
    }
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.INTEGER_LITERAL: {
      const [name, min, max] = INTEGER_RANGES[id]!;
      const numeric = receiveNumeric(bytes);
      if (numeric === null) throw bad('numeric');
      return numericToInteger(numeric, name, numericText(numeric), min, max);
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE: {
      const value = receiveFloat(bytes);
      if (value === null) throw bad(id === DuckDBTypeId.FLOAT ? 'real' : 'double precision');
      return id === DuckDBTypeId.FLOAT ? Math.fround(value) : value;
    }
    case DuckDBTypeId.DECIMAL: {
      const numeric = receiveNumeric(bytes);
      if (numeric === null) throw bad('numeric');
      return new DuckDBDecimalValue(fitDecimal(numeric, type.width, type.scale), type.width, type.scale);
    }
    case DuckDBTypeId.VARCHAR: {
      if (isJsonType(type)) {
        // jsonb's send format is a version byte (1) then the text; json's is the bare text.
        const jsonb = bytes.length > 0 && bytes[0] === 1;
        const text = decodeUtf8(jsonb ? bytes.subarray(1) : bytes);
        checkJson(text);
        return text;
      }
      return decodeUtf8(bytes);
    }
    case DuckDBTypeId.ENUM:
      return fromText(type, decodeUtf8(bytes), context);
    case DuckDBTypeId.BLOB:
      // Copy: the bytes are a view into the connection's receive buffer, which is reused.
      return new DuckDBBlobValue(Uint8Array.prototype.slice.call(bytes));
    case DuckDBTypeId.DATE: {
      const days = receiveDate(bytes);
      if (days === null) throw bad('date');
      return new DuckDBDateValue(days);
    }
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS: {
      const micros = receiveTime(bytes);
      if (micros === null) throw bad('time');
      return id === DuckDBTypeId.TIME
        ? new DuckDBTimeValue(BigInt(micros))
        : new DuckDBTimeNSValue(BigInt(micros) * 1000n);
    }
    case DuckDBTypeId.TIME_TZ: {
      const t = receiveTimetz(bytes);
      if (t === null) throw bad('time with time zone');
      return DuckDBTimeTZValue.fromMicrosAndOffset(BigInt(t.micros), t.offset);
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const micros = receiveTimestamp(bytes);
      if (micros === null) throw bad('timestamp');
      if (id === DuckDBTypeId.TIMESTAMP_TZ) return new DuckDBTimestampTZValue(micros);
      return timestampValue(id, micros, String(micros));
    }
    case DuckDBTypeId.INTERVAL: {
      const i = receiveInterval(bytes);
      if (i === null) throw bad('interval');
      return new DuckDBIntervalValue(i.months, i.days, i.micros);
    }
    case DuckDBTypeId.UUID: {
      const u = receiveUuid(bytes);
      if (u === null) throw bad('uuid');
      return DuckDBUUIDValue.fromUint128(u);
    }
    case DuckDBTypeId.BIT: {
      const bits = receiveVarbit(bytes);
      if (bits === null) throw bad('bit varying');
      return DuckDBBitValue.fromBits(bits);
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return listFromBinary(type, bytes, context);
    default:
      // Types presented as text: the binary format of text is its UTF-8.
      return decodeUtf8(bytes);
  }
}

function listFromBinary(type: DuckDBType, bytes: Uint8Array, context: Context): DuckDBValue {
  const received = receiveArray(bytes);
  if (received === null) throw badBinary('array', context.parameterNumber);
  const { depth } = listShape(type);
  const { dims, elements } = received;
  if (dims.length === 0 || elements.length === 0) return buildList(type, [], () => null);
  if (dims.length !== depth) {
    throw badBinary('array', context.parameterNumber, `Expected ${depth} dimension(s), got ${dims.length}.`);
  }
  // Regroup the row-major elements into nested arrays, one level per dimension.
  let at = 0;
  const group = (level: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < dims[level]!; i++)
      out.push(level + 1 < dims.length ? group(level + 1) : elements[at++]);
    return out;
  };
  return buildList(type, group(0), (elementType, item) =>
    fromBinary(elementType, item as Uint8Array, context),
  );
}

function numericText(n: NumericInput): string {
  if (n.kind !== 'finite') return n.kind === 'nan' ? 'NaN' : n.kind === 'infinity' ? 'Infinity' : '-Infinity';
  const digits = String(n.unscaled < 0n ? -n.unscaled : n.unscaled).padStart(n.scale + 1, '0');
  const text = n.scale === 0 ? digits : `${digits.slice(0, -n.scale)}.${digits.slice(-n.scale)}`;
  return n.unscaled < 0n ? `-${text}` : text;
}
