import * as arrow from 'apache-arrow';
import {
  BufferRegion,
  FieldNode,
  Message,
  RecordBatch as RecordBatchHeader,
} from 'apache-arrow/ipc/metadata/message';

/**
 * Writes the per-chunk record batches of one task result (ArrowChunkEncoder's output) as one Arrow IPC
 * stream holding a single record batch: schema message, batch message, end-of-stream. The chunks' column
 * buffers are joined straight into the stream's body, so a result message costs one allocation and one
 * copy of its bytes, and the reader decodes one batch instead of one per 2,048-row DuckDB chunk (Arrow
 * JS spends most of its IPC time per batch, not per byte).
 *
 * Supports the layouts ArrowChunkEncoder produces: Null, Bool, fixed-width values (integers, floats,
 * decimals, dates, times, timestamps) and Utf8/Binary, each at offset 0 with an optional validity bitmap.
 * The output reads back with any Arrow IPC stream reader (`arrow.tableFromIPC`).
 */
export class IpcBatchWriter {
  private readonly schema: arrow.Schema;
  /** The schema message, framed: it is the same for every message of the result. */
  private readonly schemaMessage: Uint8Array;

  constructor(schema: arrow.Schema) {
    this.schema = schema;
    this.schemaMessage = frameMessage(Message.encode(Message.from(schema)));
  }

  /**
   * The IPC stream of `batches` joined into one record batch, written after `headroom` bytes the caller
   * fills in (a frame header). Those first bytes are left as they are; every other byte is written.
   */
  write(batches: readonly arrow.RecordBatch[], headroom = 0): Uint8Array {
    const length = batches.reduce((n, b) => n + b.numRows, 0);
    const columns = this.schema.fields.map((field, c) =>
      layoutColumn(
        field.type,
        batches.map((b) => b.data.children[c]!),
        length,
      ),
    );
    const nodes: FieldNode[] = [];
    const regions: BufferRegion[] = [];
    let bodyLength = 0;
    for (const column of columns) {
      nodes.push(new FieldNode(length, column.nullCount));
      for (const buffer of column.buffers) {
        buffer.offset = bodyLength;
        regions.push(new BufferRegion(bodyLength, padded(buffer.length)));
        bodyLength += padded(buffer.length);
      }
    }
    const header = new RecordBatchHeader(length, nodes, regions, null);
    const batchMessage = frameMessage(Message.encode(Message.from(header, bodyLength)));
    const total =
      headroom + this.schemaMessage.byteLength + batchMessage.byteLength + bodyLength + EOS.byteLength;
    const out = Buffer.allocUnsafe(total);
    let at = headroom;
    out.set(this.schemaMessage, at);
    at += this.schemaMessage.byteLength;
    out.set(batchMessage, at);
    at += batchMessage.byteLength;
    const body = out.subarray(at, at + bodyLength);
    for (const column of columns) {
      for (const buffer of column.buffers) {
        const region = body.subarray(buffer.offset, buffer.offset + padded(buffer.length));
        buffer.write(region);
        region.fill(0, buffer.length);
      }
    }
    out.set(EOS, at + bodyLength);
    return out;
  }
}

/** End-of-stream: the continuation marker and a zero length. */
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

const padded = (n: number) => (n + 7) & ~7;

/** A flatbuffer message as IPC frames it: continuation marker, length, the bytes, padding to 8. */
function frameMessage(flatbuffer: Uint8Array): Uint8Array {
  const size = padded(8 + flatbuffer.byteLength);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, size - 8, true);
  out.set(flatbuffer, 8);
  return out;
}

/** One body buffer of a column: its unpadded length, where it goes, and how to fill it. */
interface BodyBuffer {
  length: number;
  offset: number;
  /** Writes the buffer's `length` bytes into the start of `into`. */
  write(into: Uint8Array): void;
}

interface ColumnLayout {
  nullCount: number;
  buffers: BodyBuffer[];
}

function layoutColumn(type: arrow.DataType, parts: readonly arrow.Data[], length: number): ColumnLayout {
  for (const part of parts) {
    if (part.offset !== 0) throw new RangeError('IpcBatchWriter takes batches that start at offset 0');
  }
  let nullCount = 0;
  for (const part of parts) nullCount += part.nullCount;
  // A Null column is all nulls and has no buffers at all.
  if (arrow.DataType.isNull(type)) return { nullCount, buffers: [] };
  const buffers: BodyBuffer[] = [validityBuffer(parts, length, nullCount)];
  if (arrow.DataType.isBool(type)) {
    buffers.push({
      length: Math.ceil(length / 8),
      offset: 0,
      write(into) {
        into.fill(0, 0, this.length);
        let at = 0;
        for (const part of parts) {
          appendBits(into, at, part.values as Uint8Array, part.length);
          at += part.length;
        }
      },
    });
  } else if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
    let total = 0;
    for (const part of parts) total += (part.valueOffsets as Int32Array)[part.length]!;
    buffers.push(
      {
        length: (length + 1) * 4,
        offset: 0,
        write(into) {
          const offsets = new DataView(into.buffer, into.byteOffset, this.length);
          offsets.setInt32(0, 0, true);
          let row = 0;
          let base = 0;
          for (const part of parts) {
            const partOffsets = part.valueOffsets as Int32Array;
            for (let i = 1; i <= part.length; i++)
              offsets.setInt32((row + i) * 4, base + partOffsets[i]!, true);
            row += part.length;
            base += partOffsets[part.length]!;
          }
        },
      },
      {
        length: total,
        offset: 0,
        write(into) {
          let at = 0;
          for (const part of parts) {
            const used = (part.valueOffsets as Int32Array)[part.length]!;
            into.set((part.values as Uint8Array).subarray(0, used), at);
            at += used;
          }
        },
      },
    );
  } else {
    // Fixed width: each part's values are exactly its rows, so their bytes join end to end.
    let total = 0;
    for (const part of parts) total += (part.values as ArrayBufferView).byteLength;
    buffers.push({
      length: total,
      offset: 0,
      write(into) {
        let at = 0;
        for (const part of parts) {
          const values = part.values as ArrayBufferView;
          into.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
          at += values.byteLength;
        }
      },
    });
  }
  return { nullCount, buffers };
}

/** The joined validity bitmap; an empty buffer when no part has a null, as Arrow writes it. */
function validityBuffer(parts: readonly arrow.Data[], length: number, nullCount: number): BodyBuffer {
  if (nullCount === 0) return { length: 0, offset: 0, write() {} };
  return {
    length: Math.ceil(length / 8),
    offset: 0,
    write(into) {
      into.fill(0, 0, this.length);
      let at = 0;
      for (const part of parts) {
        if (part.nullCount > 0) appendBits(into, at, part.nullBitmap!, part.length);
        else setBits(into, at, part.length);
        at += part.length;
      }
    },
  };
}

/** Copies `count` LSB-first bits from `src` into the zeroed `dst` starting at bit `offset`. */
function appendBits(dst: Uint8Array, offset: number, src: Uint8Array, count: number): void {
  const whole = count >> 3;
  const rest = count & 7;
  const shift = offset & 7;
  const base = offset >> 3;
  if (shift === 0) {
    dst.set(src.subarray(0, whole), base);
    if (rest > 0) dst[base + whole] = src[whole]! & ((1 << rest) - 1);
    return;
  }
  const bytes = whole + (rest > 0 ? 1 : 0);
  for (let k = 0; k < bytes; k++) {
    // Bits past `count` in the last source byte are not part of the data; they must not land in dst.
    const value = k === whole ? src[k]! & ((1 << rest) - 1) : src[k]!;
    dst[base + k]! |= (value << shift) & 0xff;
    const carry = value >> (8 - shift);
    if (carry !== 0) dst[base + k + 1]! |= carry;
  }
}

/** Sets `count` bits of the zeroed `dst` from bit `offset`. */
function setBits(dst: Uint8Array, offset: number, count: number): void {
  let i = offset;
  const end = offset + count;
  while (i < end && (i & 7) !== 0) {
    dst[i >> 3]! |= 1 << (i & 7);
    i++;
  }
  const wholeEnd = end & ~7;
  if (i < wholeEnd) {
    dst.fill(0xff, i >> 3, wholeEnd >> 3);
    i = wholeEnd;
  }
  while (i < end) {
    dst[i >> 3]! |= 1 << (i & 7);
    i++;
  }
}
