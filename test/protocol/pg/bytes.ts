// Builds expected wire bytes for the codec tests, independently of protocol/pg (as pg-protocol's
// testing/buffer-list.ts does): plain arrays of numbers, big-endian by arithmetic.

/** An append-only list of bytes with the protocol's primitive types. */
export class Bytes {
  private readonly data: number[] = [];

  byte(v: number): this {
    this.data.push(v & 0xff);
    return this;
  }

  /** One ASCII character as a byte. */
  char(c: string): this {
    return this.byte(c.charCodeAt(0));
  }

  int16(v: number): this {
    const u = v < 0 ? v + 0x10000 : v;
    return this.byte(Math.floor(u / 0x100)).byte(u % 0x100);
  }

  int32(v: number): this {
    let u = v < 0 ? v + 0x100000000 : v;
    const out = [0, 0, 0, 0];
    for (let i = 3; i >= 0; i--) {
      out[i] = u % 0x100;
      u = Math.floor(u / 0x100);
    }
    for (const b of out) this.byte(b);
    return this;
  }

  /** UTF-8 text without a terminator. */
  string(s: string): this {
    for (const b of new TextEncoder().encode(s)) this.byte(b);
    return this;
  }

  /** UTF-8 text and a NUL. */
  cstring(s: string): this {
    return this.string(s).byte(0);
  }

  bytes(b: Iterable<number>): this {
    for (const v of b) this.byte(v);
    return this;
  }

  get length(): number {
    return this.data.length;
  }

  build(): Buffer {
    return Buffer.from(this.data);
  }
}

/** A typed message: the code letter, an int32 length counting itself, then the body. */
export function message(code: string, body: Bytes = new Bytes()): Buffer {
  return new Bytes()
    .char(code)
    .int32(body.length + 4)
    .bytes(body.build())
    .build();
}

/** An untyped startup-phase packet: an int32 length counting itself, then the body. */
export function packet(body: Bytes): Buffer {
  return new Bytes()
    .int32(body.length + 4)
    .bytes(body.build())
    .build();
}

/** Joins byte strings without Buffer.concat, so the helper stays independent of what it checks. */
export function join(...parts: Uint8Array[]): Buffer {
  const all = new Bytes();
  for (const p of parts) all.bytes(p);
  return all.build();
}

/**
 * Every way the tests cut a byte string into pushes: whole, in two at every boundary, and one byte
 * at a time. Each piece is a fresh copy, as socket chunks are.
 */
export function* splits(data: Uint8Array): Generator<{ name: string; chunks: Buffer[] }> {
  yield { name: 'whole', chunks: [Buffer.from(data)] };
  for (let i = 1; i < data.length; i++) {
    yield {
      name: `split at ${i}`,
      chunks: [Buffer.from(data.subarray(0, i)), Buffer.from(data.subarray(i))],
    };
  }
  const single: Buffer[] = [];
  for (let i = 0; i < data.length; i++) single.push(Buffer.from(data.subarray(i, i + 1)));
  yield { name: 'byte by byte', chunks: single };
}
