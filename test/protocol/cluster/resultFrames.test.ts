import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterProtocolError } from '../../../protocol/cluster/ClusterError.js';
import {
  decodeFrameHeader,
  encodeResultFrames,
  FRAME_HEADER_BYTES,
  ResultFrameAssembler,
} from '../../../protocol/cluster/resultFrames.js';

/** A deterministic batch whose every byte differs from its neighbours, so misplaced slices show. */
function batchOf(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** The expected header, written byte by byte from the documented layout rather than by the encoder. */
function expectedHeader(batchSeq: number, frameSeq: number, total: number, last: boolean): number[] {
  const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  return [1, last ? 1 : 0, 0, 0, ...le32(batchSeq), ...le32(frameSeq), ...le32(total)];
}

test('a batch that fits one frame is the header plus the bytes', () => {
  const batch = batchOf(10);
  const frames = encodeResultFrames(batch, 3, 1024);
  assert.is(frames.length, 1);
  assert.equal([...frames[0]!.subarray(0, FRAME_HEADER_BYTES)], expectedHeader(3, 0, 10, true));
  assert.equal([...frames[0]!.subarray(FRAME_HEADER_BYTES)], [...batch]);
});

test('frames never exceed max_payload and carry their sequence numbers', () => {
  const maxPayload = 64;
  const room = maxPayload - FRAME_HEADER_BYTES;
  const batch = batchOf(room * 3 + 5);
  const frames = encodeResultFrames(batch, 9, maxPayload);
  assert.is(frames.length, 4);
  frames.forEach((frame, i) => {
    assert.ok(frame.byteLength <= maxPayload);
    assert.equal([...frame.subarray(0, FRAME_HEADER_BYTES)], expectedHeader(9, i, batch.byteLength, i === 3));
  });
  assert.is(frames[3]!.byteLength, FRAME_HEADER_BYTES + 5);
});

test('an empty batch still travels as one frame', () => {
  const frames = encodeResultFrames(new Uint8Array(0), 0, 64);
  assert.is(frames.length, 1);
  const assembler = new ResultFrameAssembler();
  assert.equal([...assembler.push(frames[0]!)!], []);
});

test('every batch size round-trips at every max_payload, split at every byte', () => {
  for (const length of [1, 2, 47, 48, 49, 97, 200]) {
    const batch = batchOf(length, length);
    for (
      let maxPayload = FRAME_HEADER_BYTES + 1;
      maxPayload <= length + FRAME_HEADER_BYTES + 1;
      maxPayload++
    ) {
      const assembler = new ResultFrameAssembler();
      const frames = encodeResultFrames(batch, 0, maxPayload);
      let out: Uint8Array | null = null;
      frames.forEach((frame, i) => {
        out = assembler.push(frame);
        if (i < frames.length - 1) assert.is(out, null);
      });
      assert.equal([...out!], [...batch], `length ${length}, max_payload ${maxPayload}`);
    }
  }
});

test('consecutive batches reassemble in order', () => {
  const assembler = new ResultFrameAssembler();
  const a = batchOf(100, 1);
  const b = batchOf(30, 2);
  const got: number[][] = [];
  for (const frame of [...encodeResultFrames(a, 0, 40), ...encodeResultFrames(b, 1, 40)]) {
    const done = assembler.push(frame);
    if (done) got.push([...done]);
  }
  assert.equal(got, [[...a], [...b]]);
  assert.is(assembler.batches, 2);
});

test('a lost frame, a repeated frame or a skipped batch is refused', () => {
  const frames = encodeResultFrames(batchOf(100), 0, 40);
  const lost = new ResultFrameAssembler();
  lost.push(frames[0]!);
  assert.throws(
    () => lost.push(frames[2]!),
    (e: unknown) => e instanceof ClusterProtocolError,
  );

  const repeated = new ResultFrameAssembler();
  repeated.push(frames[0]!);
  assert.throws(
    () => repeated.push(frames[0]!),
    (e: unknown) => e instanceof ClusterProtocolError,
  );

  const skipped = new ResultFrameAssembler();
  assert.throws(() => skipped.push(encodeResultFrames(batchOf(5), 1, 40)[0]!), /expected 0\/0/);
});

test('a frame whose sizes do not add up is refused', () => {
  const frame = encodeResultFrames(batchOf(10), 0, 64)[0]!;
  const lying = frame.slice();
  lying[12] = 11; // claims 11 bytes, carries 10
  assert.throws(() => new ResultFrameAssembler().push(lying), /11 bytes came as 10/);
});

test('a short frame or an unknown format is refused', () => {
  assert.throws(() => decodeFrameHeader(new Uint8Array(5)), /shorter than its header/);
  const frame = encodeResultFrames(batchOf(3), 0, 64)[0]!.slice();
  frame[0] = 9;
  assert.throws(() => decodeFrameHeader(frame), /format 9/);
});

test('a max_payload smaller than a header is an error, not an endless loop', () => {
  assert.throws(() => encodeResultFrames(batchOf(3), 0, FRAME_HEADER_BYTES), RangeError);
});

test.run();
