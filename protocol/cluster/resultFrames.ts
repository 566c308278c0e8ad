import { ClusterProtocolError } from './ClusterError.js';

/**
 * Result batches are Arrow IPC stream bytes. One batch can exceed the server's max_payload, so it travels
 * as one or more frames, each a 16-byte header followed by a slice of the batch:
 *
 *   0  u8   frame format (FRAME_FORMAT)
 *   1  u8   flags: bit 0 set on the batch's last frame
 *   2  u16  reserved, 0
 *   4  u32  batch sequence number within the attempt, from 0
 *   8  u32  frame sequence number within the batch, from 0
 *   12 u32  total bytes of the batch
 *   16 ...  payload
 *
 * All little-endian. A result subject names its query, task and attempt, so the header only orders frames.
 */
export const FRAME_HEADER_BYTES = 16;
export const FRAME_FORMAT = 1;
const LAST_FRAME = 0x01;

export interface FrameHeader {
  batchSeq: number;
  frameSeq: number;
  totalBytes: number;
  last: boolean;
}

/**
 * Splits one batch into frames of at most `maxPayload` bytes. All frames share one allocation, so the cost
 * is a single copy of the batch however many frames it takes.
 */
export function encodeResultFrames(batch: Uint8Array, batchSeq: number, maxPayload: number): Uint8Array[] {
  const room = maxPayload - FRAME_HEADER_BYTES;
  if (room < 1) throw new RangeError(`max_payload ${maxPayload} leaves no room for a result frame`);
  const count = Math.max(1, Math.ceil(batch.byteLength / room));
  // Every byte is written below (header fields, reserved included, then the payload): no zero-fill needed.
  const out = Buffer.allocUnsafe(count * FRAME_HEADER_BYTES + batch.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const frames: Uint8Array[] = [];
  let at = 0;
  for (let frameSeq = 0; frameSeq < count; frameSeq++) {
    const start = frameSeq * room;
    const end = Math.min(batch.byteLength, start + room);
    view.setUint8(at, FRAME_FORMAT);
    view.setUint8(at + 1, frameSeq === count - 1 ? LAST_FRAME : 0);
    view.setUint16(at + 2, 0, true);
    view.setUint32(at + 4, batchSeq, true);
    view.setUint32(at + 8, frameSeq, true);
    view.setUint32(at + 12, batch.byteLength, true);
    out.set(batch.subarray(start, end), at + FRAME_HEADER_BYTES);
    frames.push(out.subarray(at, at + FRAME_HEADER_BYTES + (end - start)));
    at += FRAME_HEADER_BYTES + (end - start);
  }
  return frames;
}

/**
 * The one frame of a batch written after FRAME_HEADER_BYTES of headroom in `buffer` (the batch is
 * `buffer.subarray(FRAME_HEADER_BYTES)`): fills in the header in place, so the batch is not copied again.
 * Null when the frame would exceed `maxPayload`; encodeResultFrames then splits the batch.
 */
export function sealSingleFrame(buffer: Uint8Array, batchSeq: number, maxPayload: number): Uint8Array | null {
  if (buffer.byteLength > maxPayload || buffer.byteLength < FRAME_HEADER_BYTES) return null;
  const view = new DataView(buffer.buffer, buffer.byteOffset, FRAME_HEADER_BYTES);
  view.setUint8(0, FRAME_FORMAT);
  view.setUint8(1, LAST_FRAME);
  view.setUint16(2, 0, true);
  view.setUint32(4, batchSeq, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, buffer.byteLength - FRAME_HEADER_BYTES, true);
  return buffer;
}

/** Reads a frame's header; throws ClusterProtocolError on a short frame or an unknown format. */
export function decodeFrameHeader(frame: Uint8Array): FrameHeader {
  if (frame.byteLength < FRAME_HEADER_BYTES)
    throw new ClusterProtocolError('result frame shorter than its header');
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  const format = view.getUint8(0);
  if (format !== FRAME_FORMAT)
    throw new ClusterProtocolError(`result frame format ${format} is not ${FRAME_FORMAT}`);
  return {
    last: (view.getUint8(1) & LAST_FRAME) !== 0,
    batchSeq: view.getUint32(4, true),
    frameSeq: view.getUint32(8, true),
    totalBytes: view.getUint32(12, true),
  };
}

/**
 * Reassembles one attempt's frames into batches, in order. Frames of one publisher on one subject arrive
 * in order, so anything else (a gap, a repeat, a size that does not add up) means frames were lost, and
 * the attempt's output cannot be trusted: push() throws and the caller retries the task.
 */
export class ResultFrameAssembler {
  private nextBatch = 0;
  private nextFrame = 0;
  private buffer: Uint8Array | null = null;
  private filled = 0;

  /** Batches completed so far. */
  get batches(): number {
    return this.nextBatch;
  }

  /** Adds one frame; returns the batch's bytes when this was its last frame, else null. */
  push(frame: Uint8Array): Uint8Array | null {
    const header = decodeFrameHeader(frame);
    if (header.batchSeq !== this.nextBatch || header.frameSeq !== this.nextFrame) {
      throw new ClusterProtocolError(
        `result frame ${header.batchSeq}/${header.frameSeq} arrived, expected ${this.nextBatch}/${this.nextFrame}`,
      );
    }
    const payload = frame.subarray(FRAME_HEADER_BYTES);
    if (header.frameSeq === 0 && header.last) {
      // The common case: the whole batch in one frame, handed on without a copy.
      if (payload.byteLength !== header.totalBytes) {
        throw new ClusterProtocolError(
          `result batch of ${header.totalBytes} bytes came as ${payload.byteLength}`,
        );
      }
      this.nextBatch++;
      return payload;
    }
    if (header.frameSeq === 0) {
      this.buffer = new Uint8Array(header.totalBytes);
      this.filled = 0;
    }
    const buffer = this.buffer!;
    if (buffer.byteLength !== header.totalBytes || this.filled + payload.byteLength > buffer.byteLength) {
      throw new ClusterProtocolError(`result frames overflow their batch of ${buffer.byteLength} bytes`);
    }
    buffer.set(payload, this.filled);
    this.filled += payload.byteLength;
    if (!header.last) {
      this.nextFrame++;
      return null;
    }
    if (this.filled !== buffer.byteLength) {
      throw new ClusterProtocolError(`result batch of ${buffer.byteLength} bytes ended after ${this.filled}`);
    }
    this.buffer = null;
    this.nextFrame = 0;
    this.nextBatch++;
    return buffer;
  }
}
