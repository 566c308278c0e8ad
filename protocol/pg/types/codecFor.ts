import {
  type DuckDBArrayValue,
  type DuckDBBitValue,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBIntervalValue,
  type DuckDBListValue,
  type DuckDBTimeNSValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampValue,
  type DuckDBTimeTZValue,
  type DuckDBTimeValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBUUIDValue,
} from '@duckdb/node-api';
import { PgError } from '../PgError.js';
import { SqlState } from '../sqlstate.js';
import { TIMESTAMP_NEG_INF, TIMESTAMP_POS_INF } from './calendar.js';
import {
  arraySend,
  boolSend,
  dateSend,
  float4Send,
  float8Send,
  int2Send,
  int4Send,
  int8Send,
  intervalSend,
  numericSend,
  oidSend,
  textSend,
  timeSend,
  timestampSend,
  timetzSend,
  uuidSend,
  varbitSend,
} from './encodeBinary.js';
import { arrayElementText } from './formatArray.js';
import { dateText, timestampText, timestamptzText, timeText, timetzText } from './formatDateTime.js';
import { decimalText } from './formatDecimal.js';
import { duckdbTextRenderer } from './formatDuckDBText.js';
import { float4Text, float8Text } from './formatFloat.js';
import { intervalText } from './formatInterval.js';
import type { ColumnCodec, EncodeOptions } from './PgType.js';
import { innermostElement, pgTypeFor } from './pgTypeFor.js';
import { type TimeZone, timeZoneFor } from './TimeZone.js';

type TextWriter = (value: unknown, options: EncodeOptions) => string;
type BinaryWriter = (value: unknown, options: EncodeOptions) => Uint8Array;

interface Writers {
  readonly text: TextWriter;
  readonly binary: BinaryWriter;
}

let zoneName = '';
let zone: TimeZone | null = null;

/** The session's TimeZone, looked up only when the setting changes between calls. */
function zoneOf(options: EncodeOptions): TimeZone {
  if (zone === null || options.timeZone !== zoneName) {
    zone = timeZoneFor(options.timeZone);
    zoneName = options.timeZone;
  }
  return zone;
}

/**
 * The codec for one result column of DuckDB type `type`: its PostgreSQL type (pgTypeFor) and writers
 * for PostgreSQL's text and binary formats. Choose it once per column; the writers are closures
 * specialised for the type and take non-null values only (NULL is the caller's -1 length).
 */
export function codecFor(type: DuckDBType): ColumnCodec {
  const writers =
    type.typeId === DuckDBTypeId.LIST || type.typeId === DuckDBTypeId.ARRAY
      ? arrayWriters(type)
      : scalarWriters(type);
  return { type: pgTypeFor(type), text: writers.text, binary: writers.binary };
}

const identity: TextWriter = (v) => v as string;
const stringOf: TextWriter = (v) => String(v);
const utf8: BinaryWriter = (v) => textSend(v as string);

function scalarWriters(type: DuckDBType): Writers {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { text: (v) => (v ? 't' : 'f'), binary: (v) => boolSend(v as boolean) };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return { text: stringOf, binary: (v) => int2Send(v as number) };
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return { text: stringOf, binary: (v) => int4Send(v as number) };
    case DuckDBTypeId.BIGINT:
      return { text: stringOf, binary: (v) => int8Send(v as bigint) };
    case DuckDBTypeId.UINTEGER:
      return { text: stringOf, binary: (v) => oidSend(v as number) };
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.INTEGER_LITERAL:
      return { text: stringOf, binary: (v) => numericSend(BigInt(v as bigint), 0) };
    case DuckDBTypeId.DECIMAL:
      return {
        text: (v) => decimalText((v as DuckDBDecimalValue).value, (v as DuckDBDecimalValue).scale),
        binary: (v) => numericSend((v as DuckDBDecimalValue).value, (v as DuckDBDecimalValue).scale),
      };
    case DuckDBTypeId.FLOAT:
      return {
        text: (v, o) => float4Text(v as number, o.extraFloatDigits),
        binary: (v) => float4Send(v as number),
      };
    case DuckDBTypeId.DOUBLE:
      return {
        text: (v, o) => float8Text(v as number, o.extraFloatDigits),
        binary: (v) => float8Send(v as number),
      };
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
      return { text: identity, binary: utf8 };
    case DuckDBTypeId.BLOB:
      return {
        text: (v) => byteaText((v as DuckDBBlobValue).bytes),
        binary: (v) => (v as DuckDBBlobValue).bytes,
      };
    case DuckDBTypeId.DATE:
      return {
        text: (v) => dateText((v as DuckDBDateValue).days),
        binary: (v) => dateSend((v as DuckDBDateValue).days),
      };
    case DuckDBTypeId.TIME:
      return {
        text: (v) => timeText(Number((v as DuckDBTimeValue).micros)),
        binary: (v) => timeSend(Number((v as DuckDBTimeValue).micros)),
      };
    case DuckDBTypeId.TIME_NS:
      return {
        text: (v) => timeText(nanosToMicros((v as DuckDBTimeNSValue).nanos)),
        binary: (v) => timeSend(nanosToMicros((v as DuckDBTimeNSValue).nanos)),
      };
    case DuckDBTypeId.TIME_TZ:
      return {
        text: (v) => timetzText(Number((v as DuckDBTimeTZValue).micros), (v as DuckDBTimeTZValue).offset),
        binary: (v) => timetzSend(Number((v as DuckDBTimeTZValue).micros), (v as DuckDBTimeTZValue).offset),
      };
    case DuckDBTypeId.TIMESTAMP:
      return {
        text: (v) => timestampText((v as DuckDBTimestampValue).micros),
        binary: (v) => timestampSend((v as DuckDBTimestampValue).micros),
      };
    case DuckDBTypeId.TIMESTAMP_S:
      return timestampWriters((v) => scaleTimestamp((v as DuckDBTimestampSecondsValue).seconds, 1000000n));
    case DuckDBTypeId.TIMESTAMP_MS:
      return timestampWriters((v) => scaleTimestamp((v as DuckDBTimestampMillisecondsValue).millis, 1000n));
    case DuckDBTypeId.TIMESTAMP_NS:
      return timestampWriters((v) => nanosTimestampToMicros((v as DuckDBTimestampNanosecondsValue).nanos));
    case DuckDBTypeId.TIMESTAMP_TZ:
      return {
        text: (v, o) => timestamptzText((v as DuckDBTimestampValue).micros, zoneOf(o)),
        binary: (v) => timestampSend((v as DuckDBTimestampValue).micros),
      };
    case DuckDBTypeId.INTERVAL:
      return {
        text: (v) => {
          const i = v as DuckDBIntervalValue;
          return intervalText(i.months, i.days, i.micros);
        },
        binary: (v) => {
          const i = v as DuckDBIntervalValue;
          return intervalSend(i.months, i.days, i.micros);
        },
      };
    case DuckDBTypeId.UUID:
      return {
        text: stringOf,
        binary: (v) => uuidSend((v as DuckDBUUIDValue).toUint128()),
      };
    case DuckDBTypeId.BIT:
      return {
        text: stringOf,
        binary: (v) => varbitSend((v as DuckDBBitValue).toBits()),
      };
    default: {
      // STRUCT, MAP, UNION, VARIANT, GEOMETRY, ...: text of DuckDB's CAST(x AS VARCHAR).
      const render = duckdbTextRenderer(type);
      return {
        text: (v, o) => render(v, zoneOf(o)),
        binary: (v, o) => textSend(render(v, zoneOf(o))),
      };
    }
  }
}

function timestampWriters(toMicros: (v: unknown) => bigint): Writers {
  return {
    text: (v) => timestampText(toMicros(v)),
    binary: (v) => timestampSend(toMicros(v)),
  };
}

/** A TIMESTAMP_S/_MS value in microseconds, keeping DuckDB's ±infinity sentinels. */
function scaleTimestamp(value: bigint, factor: bigint): bigint {
  if (value === TIMESTAMP_POS_INF || value === TIMESTAMP_NEG_INF) return value;
  return value * factor;
}

/** Nanoseconds rounded to the nearest microsecond (halves up), as PostgreSQL rounds fractional input. */
function nanosTimestampToMicros(nanos: bigint): bigint {
  if (nanos === TIMESTAMP_POS_INF || nanos === TIMESTAMP_NEG_INF) return nanos;
  const shifted = nanos + 500n;
  const q = shifted / 1000n;
  return shifted % 1000n < 0n ? q - 1n : q;
}

function nanosToMicros(nanos: bigint): number {
  return Number(nanosTimestampToMicros(nanos));
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** bytea's hex output: `\x` and two lowercase hex digits per byte. */
function byteaText(bytes: Uint8Array): string {
  if (bytes.length > 64)
    return `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
  let out = '\\x';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/**
 * Writers for a LIST or ARRAY column, at any nesting depth: PostgreSQL's `{...}` text and its array
 * send format, with the innermost element type's writers doing each element.
 */
function arrayWriters(type: DuckDBType): Writers {
  const elementType = innermostElement(type);
  let depth = 0;
  for (let t = type; t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY; t = t.valueType)
    depth++;
  const element = scalarWriters(elementType);
  const elementOid = pgTypeFor(elementType).oid;

  const textOf = (value: unknown, level: number, options: EncodeOptions): string => {
    const items = (value as DuckDBListValue | DuckDBArrayValue).items;
    let out = '{';
    for (let i = 0; i < items.length; i++) {
      if (i > 0) out += ',';
      const item = items[i];
      if (item === null || item === undefined) out += 'NULL';
      else if (level < depth) out += textOf(item, level + 1, options);
      else out += arrayElementText(element.text(item, options));
    }
    return `${out}}`;
  };

  return {
    text: (value, options) => textOf(value, 1, options),
    binary: (value, options) => {
      const dims: number[] = [];
      let probe: unknown = value;
      for (let level = 1; level <= depth; level++) {
        const items = (probe as DuckDBListValue).items;
        dims.push(items.length);
        if (items.length === 0) break;
        probe = items[0];
        if (level < depth && (probe === null || probe === undefined)) throw raggedArray();
      }
      const elements: (Uint8Array | null)[] = [];
      const walk = (v: unknown, level: number): void => {
        const items = (v as DuckDBListValue).items;
        if (items.length !== dims[level - 1]) throw raggedArray();
        for (const item of items) {
          if (level < depth) {
            if (item === null || item === undefined) throw raggedArray();
            walk(item, level + 1);
          } else elements.push(item === null || item === undefined ? null : element.binary(item, options));
        }
      };
      walk(value, 1);
      return arraySend(elementOid, dims, elements);
    },
  };
}

function raggedArray(): PgError {
  return new PgError(
    SqlState.DataException,
    'multidimensional arrays must have array expressions with matching dimensions',
    {
      detail:
        'PostgreSQL arrays are rectangular; this DuckDB list of lists has sub-lists of different lengths or NULL sub-lists. Request the column in text format or unnest it.',
    },
  );
}
