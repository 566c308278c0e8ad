import { shortestFloat64Digits, shortestLayout } from './shortestDigits.js';

// DuckDB's GEOMETRY text (its CAST to VARCHAR): WKT read from the value's WKB, e.g. `POINT (1 2)`,
// `POINT Z (1 2 3)`, `MULTIPOINT (1 2, 3 4)`, `POLYGON ((0 0, 1 0, 1 1, 0 0))`, `LINESTRING EMPTY`.

const NAMES = [
  '',
  'POINT',
  'LINESTRING',
  'POLYGON',
  'MULTIPOINT',
  'MULTILINESTRING',
  'MULTIPOLYGON',
  'GEOMETRYCOLLECTION',
];

class WkbReader {
  private at = 0;
  private little = true;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  byteOrder(): void {
    this.little = this.view.getUint8(this.at) === 1;
    this.at += 1;
  }

  uint32(): number {
    const v = this.view.getUint32(this.at, this.little);
    this.at += 4;
    return v;
  }

  double(): number {
    const v = this.view.getFloat64(this.at, this.little);
    this.at += 8;
    return v;
  }
}

function coordinate(value: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return String(value).toLowerCase();
  const [digits, exponent] = shortestFloat64Digits(value, true);
  return shortestLayout(value < 0, digits, exponent, false);
}

/** WKT of a geometry given as (ISO or extended) WKB. */
export function formatGeometry(wkb: Uint8Array): string {
  return readGeometry(new WkbReader(wkb));
}

function readGeometry(r: WkbReader): string {
  r.byteOrder();
  let type = r.uint32();
  let hasZ = false;
  let hasM = false;
  // Extended WKB flags, then ISO's thousands.
  if (type & 0x80000000) hasZ = true;
  if (type & 0x40000000) hasM = true;
  if (type & 0x20000000) r.uint32(); // SRID, not part of WKT
  type &= 0x0fffffff;
  const dims = Math.floor(type / 1000);
  if (dims === 1 || dims === 3) hasZ = true;
  if (dims === 2 || dims === 3) hasM = true;
  const kind = type % 1000;
  const width = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0);
  const label = `${NAMES[kind] ?? 'GEOMETRY'}${hasZ && hasM ? ' ZM' : hasZ ? ' Z' : hasM ? ' M' : ''}`;
  const point = (): string => {
    const parts: string[] = [];
    for (let i = 0; i < width; i++) parts.push(coordinate(r.double()));
    return parts.join(' ');
  };
  const points = (): string[] => {
    const n = r.uint32();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(point());
    return out;
  };
  switch (kind) {
    case 1: {
      const p = point();
      return p.split(' ').every((c) => c === 'nan') ? `${label} EMPTY` : `${label} (${p})`;
    }
    case 2: {
      const ps = points();
      return ps.length === 0 ? `${label} EMPTY` : `${label} (${ps.join(', ')})`;
    }
    case 3: {
      const rings = r.uint32();
      if (rings === 0) return `${label} EMPTY`;
      const out: string[] = [];
      for (let i = 0; i < rings; i++) out.push(`(${points().join(', ')})`);
      return `${label} (${out.join(', ')})`;
    }
    default: {
      const n = r.uint32();
      if (n === 0) return `${label} EMPTY`;
      const parts: string[] = [];
      for (let i = 0; i < n; i++) {
        const child = readGeometry(r);
        // Members are written without their own type name, except in a GEOMETRYCOLLECTION.
        if (kind === 7) parts.push(child);
        else {
          const open = child.indexOf('(');
          parts.push(kind === 4 ? child.slice(open + 1, -1) : child.slice(open));
        }
      }
      return `${label} (${parts.join(', ')})`;
    }
  }
}
