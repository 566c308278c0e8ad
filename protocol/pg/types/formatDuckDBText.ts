import {
  type DuckDBArrayValue,
  type DuckDBBitValue,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  DuckDBGeometryValue,
  type DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  type DuckDBTimestampTZValue,
  type DuckDBType,
  DuckDBTypeId,
  DuckDBUnionValue,
  DuckDBVariantValue,
} from '@duckdb/node-api';
import {
  civilFromDays,
  DATE_NEG_INF,
  DATE_POS_INF,
  TIMESTAMP_NEG_INF,
  TIMESTAMP_POS_INF,
} from './calendar.js';
import { offsetText, pad2, timeOfDayText } from './formatDateTime.js';
import { decimalText } from './formatDecimal.js';
import { formatGeometry } from './formatGeometry.js';
import { shortestFloat32Digits, shortestFloat64Digits, shortestLayout } from './shortestDigits.js';
import type { TimeZone } from './TimeZone.js';

// DuckDB's own CAST(x AS VARCHAR) text, for the types PostgreSQL has no counterpart for (STRUCT, MAP,
// UNION, VARIANT, GEOMETRY, ...) and for such values inside arrays. Nested values follow DuckDB's
// rules: `[a, b]`, `{'key': value}`, `{k=v}`; a scalar inside a nested value is single-quoted when it
// is empty, has leading or trailing whitespace, spells NULL, or holds one of `"'(),:=[]{}`, with `'`
// and `\` backslash-escaped; struct keys are always quoted.

/** Renders one non-null value of a fixed DuckDB type; `zone` is the session zone for TIMESTAMPTZ. */
export type DuckDBTextRenderer = (value: unknown, zone: TimeZone) => string;

/** The renderer for `type`, built once per column. */
export function duckdbTextRenderer(type: DuckDBType): DuckDBTextRenderer {
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      // LIST(JSON) has its own cast in DuckDB that writes the JSON unquoted.
      const isJson = type.valueType.typeId === DuckDBTypeId.VARCHAR && type.valueType.alias === 'JSON';
      const item = isJson ? (v: unknown) => v as string : nestedRenderer(type.valueType);
      return (value, zone) => {
        const items = (value as DuckDBListValue | DuckDBArrayValue).items;
        let out = '[';
        for (let i = 0; i < items.length; i++) {
          if (i > 0) out += ', ';
          const v = items[i];
          out += v === null || v === undefined ? 'NULL' : item(v, zone);
        }
        return `${out}]`;
      };
    }
    case DuckDBTypeId.STRUCT: {
      const names = type.entryNames;
      const children = type.entryTypes.map(nestedRenderer);
      // Unnamed structs (row(1, 'a')) print as tuples.
      const unnamed = names.length > 0 && names.every((n) => n === '');
      const keys = names.map((n) => `${quoteAlways(n)}: `);
      return (value, zone) => {
        const entries = (value as DuckDBStructValue).entries;
        let out = unnamed ? '(' : '{';
        for (let i = 0; i < names.length; i++) {
          if (i > 0) out += ', ';
          const v = entries[names[i]!];
          if (!unnamed) out += keys[i];
          out += v === null || v === undefined ? 'NULL' : children[i]!(v, zone);
        }
        if (unnamed) return `${out})`;
        return `${out}}`;
      };
    }
    case DuckDBTypeId.MAP: {
      const key = nestedRenderer(type.keyType);
      const val = nestedRenderer(type.valueType);
      return (value, zone) => {
        const entries = (value as DuckDBMapValue).entries;
        let out = '{';
        for (let i = 0; i < entries.length; i++) {
          if (i > 0) out += ', ';
          const e = entries[i]!;
          out += e.key === null ? 'NULL' : key(e.key, zone);
          out += '=';
          out += e.value === null ? 'NULL' : val(e.value, zone);
        }
        return `${out}}`;
      };
    }
    case DuckDBTypeId.UNION: {
      const members = new Map<string, DuckDBTextRenderer>();
      type.memberTags.forEach((tag, i) => {
        members.set(tag, duckdbTextRenderer(type.memberTypes[i]!));
      });
      return (value, zone) => {
        const u = value as DuckDBUnionValue;
        if (u.value === null) return 'NULL';
        const render = members.get(u.tag);
        return render === undefined ? String(u.value) : render(u.value, zone);
      };
    }
    case DuckDBTypeId.VARIANT:
      return (value, zone) => variantText(value, zone);
    default:
      return scalarRenderer(type);
  }
}

function isNestedType(type: DuckDBType): boolean {
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION:
    case DuckDBTypeId.VARIANT:
      return true;
    default:
      return false;
  }
}

/** A child of a nested value: nested children as they are, scalars quoted when DuckDB would. */
function nestedRenderer(type: DuckDBType): DuckDBTextRenderer {
  const render = duckdbTextRenderer(type);
  if (isNestedType(type)) return render;
  return (value, zone) => quoteIfNeeded(render(value, zone));
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function quoteIfNeeded(text: string): string {
  const n = text.length;
  let quote = n === 0 || isSpace(text.charCodeAt(0)) || (n >= 2 && isSpace(text.charCodeAt(n - 1)));
  if (!quote && n === 4 && text.toLowerCase() === 'null') quote = true;
  for (let i = 0; !quote && i < n; i++) {
    switch (text.charCodeAt(i)) {
      case 0x22: // "
      case 0x27: // '
      case 0x28: // (
      case 0x29: // )
      case 0x2c: // ,
      case 0x3a: // :
      case 0x3d: // =
      case 0x5b: // [
      case 0x5d: // ]
      case 0x7b: // {
      case 0x7d: // }
        quote = true;
        break;
      default:
        break;
    }
  }
  return quote ? quoteAlways(text) : text;
}

function quoteAlways(text: string): string {
  let out = "'";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c === "'" || c === '\\' ? `\\${c}` : c;
  }
  return `${out}'`;
}

function scalarRenderer(type: DuckDBType): DuckDBTextRenderer {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return (v) => (v ? 'true' : 'false');
    case DuckDBTypeId.FLOAT:
      return (v) => duckdbFloatText(v as number, true);
    case DuckDBTypeId.DOUBLE:
      return (v) => duckdbFloatText(v as number, false);
    case DuckDBTypeId.DECIMAL:
      return (v) => decimalText((v as DuckDBDecimalValue).value, (v as DuckDBDecimalValue).scale);
    case DuckDBTypeId.DATE:
      return (v) => duckdbDateText((v as DuckDBDateValue).days);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return (v) => duckdbTimestampText(v as { toString(): string } & Record<string, unknown>);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (v, zone) => duckdbTimestamptzText((v as DuckDBTimestampTZValue).micros, zone);
    case DuckDBTypeId.BLOB:
      return (v) => duckdbBlobText((v as DuckDBBlobValue).bytes);
    case DuckDBTypeId.GEOMETRY:
      return (v) => formatGeometry((v as DuckDBGeometryValue).bytes);
    case DuckDBTypeId.BIT:
      return (v) => (v as DuckDBBitValue).toString();
    case DuckDBTypeId.INTERVAL:
      return (v) => (v as DuckDBIntervalValue).toString();
    default:
      // Integers, VARCHAR, ENUM, UUID, TIME, TIME_NS, TIME_TZ: the value's own string matches DuckDB's cast.
      return (v) => String(v);
  }
}

const HEX_UPPER = '0123456789ABCDEF';

/** DuckDB's BLOB text: printable ASCII as is, except `"`, `'` and `\`; every other byte as `\xHH`. */
function duckdbBlobText(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x20 && b <= 0x7e && b !== 0x22 && b !== 0x27 && b !== 0x5c) out += String.fromCharCode(b);
    else out += `\\x${HEX_UPPER[b >> 4]}${HEX_UPPER[b & 15]}`;
  }
  return out;
}

/** DuckDB's DATE text: `YYYY-MM-DD`, `0044-03-15 (BC)`, `infinity`. */
function duckdbDateText(days: number): string {
  if (days === DATE_POS_INF) return 'infinity';
  if (days === DATE_NEG_INF) return '-infinity';
  return dateValueText(days);
}

function duckdbTimestampText(v: { toString(): string } & Record<string, unknown>): string {
  const raw = (v['micros'] ?? v['millis'] ?? v['seconds'] ?? v['nanos']) as bigint;
  if (raw === TIMESTAMP_POS_INF) return 'infinity';
  if (raw === TIMESTAMP_NEG_INF) return '-infinity';
  return v.toString();
}

/** DuckDB's TIMESTAMPTZ text in the session zone: `2019-12-31 19:00:00-05`. */
function duckdbTimestamptzText(micros: bigint, zone: TimeZone): string {
  if (micros === TIMESTAMP_POS_INF) return 'infinity';
  if (micros === TIMESTAMP_NEG_INF) return '-infinity';
  const offset = zone.offsetAt(Math.floor(Number(micros) / 1000000));
  const local = micros + BigInt(offset) * 1000000n;
  let days = local / 86400000000n;
  let rest = local - days * 86400000000n;
  if (rest < 0n) {
    days -= 1n;
    rest += 86400000000n;
  }
  return `${dateValueText(Number(days))} ${timeOfDayText(Number(rest))}${offsetText(offset)}`;
}

/** DuckDB's text for a finite date: `2020-01-02`, `0044-03-15 (BC)`. */
function dateValueText(days: number): string {
  const { year, month, day } = civilFromDays(days);
  const bc = year <= 0;
  const y = bc ? 1 - year : year;
  const yyyy = y < 1000 ? String(y + 10000).slice(1) : String(y);
  return `${yyyy}-${pad2(month)}-${pad2(day)}${bc ? ' (BC)' : ''}`;
}

/**
 * DuckDB's FLOAT/DOUBLE text: the shortest round-trip digits, fixed notation for decimal exponents in
 * [-4, 16) with `.0` on whole numbers, else `1e+16` style; `nan`, `inf`, `-inf`, `-0.0`. For about 4% of
 * FLOAT values DuckDB's formatting library gives up on the float's shortest digits and prints the
 * double's (`244177.375` rather than `244177.38`); those are written shortest here, which reads back
 * to the same FLOAT.
 */
export function duckdbFloatText(value: number, float32: boolean): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  if (value === 0) return 1 / value < 0 ? '-0.0' : '0.0';
  const [digits, exponent] = float32 ? shortestFloat32Digits(value) : shortestFloat64Digits(value, true);
  return shortestLayout(value < 0, digits, exponent, true);
}

/** A VARIANT's text: its value rendered by the type it carries, or by its JS kind when it carries none. */
function variantText(value: unknown, zone: TimeZone): string {
  const v = value as DuckDBVariantValue;
  const inner = v instanceof DuckDBVariantValue ? v.value : value;
  if (inner === null) return 'NULL';
  if (v instanceof DuckDBVariantValue && v.type !== undefined) return duckdbTextRenderer(v.type)(inner, zone);
  return looseText(inner, zone);
}

function looseText(value: unknown, zone: TimeZone): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return duckdbFloatText(value, false).replace(/\.0$/, '');
  if (typeof value === 'string') return value;
  if (value instanceof DuckDBListValue) {
    return `[${value.items.map((i) => nestedLoose(i, zone)).join(', ')}]`;
  }
  if (value instanceof DuckDBStructValue) {
    return `{${Object.entries(value.entries)
      .map(([k, i]) => `${quoteAlways(k)}: ${nestedLoose(i, zone)}`)
      .join(', ')}}`;
  }
  if (value instanceof DuckDBMapValue) {
    return `{${value.entries.map((e) => `${nestedLoose(e.key, zone)}=${nestedLoose(e.value, zone)}`).join(', ')}}`;
  }
  if (value instanceof DuckDBUnionValue) return looseText(value.value, zone);
  if (value instanceof DuckDBVariantValue) return variantText(value, zone);
  if (value instanceof DuckDBGeometryValue) return formatGeometry(value.bytes);
  return String(value);
}

function nestedLoose(value: unknown, zone: TimeZone): string {
  if (value === null || value === undefined) return 'NULL';
  const text = looseText(value, zone);
  const nested =
    value instanceof DuckDBListValue ||
    value instanceof DuckDBStructValue ||
    value instanceof DuckDBMapValue ||
    value instanceof DuckDBUnionValue ||
    value instanceof DuckDBVariantValue;
  return nested ? text : quoteIfNeeded(text);
}
