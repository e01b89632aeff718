// Length-prefixed frames: split and joined chunks, the 64 KiB cap, empty frames.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeFrame, FrameDecoder, FrameTooLarge, MAX_FRAME_BYTES } from '../../runtime/framing.ts';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test('frames split across chunks and several frames in one chunk', () => {
  const a = encodeFrame(bytes(10, 1));
  const b = encodeFrame(bytes(0, 0));
  const c = encodeFrame(bytes(300, 3));
  const all = new Uint8Array([...a, ...b, ...c]);
  for (const cut of [1, 3, 4, 5, 13, 14, 15, 100, all.length]) {
    const d = new FrameDecoder();
    const out = [...d.push(all.slice(0, cut)), ...d.push(all.slice(cut))];
    assert.equal(out.map((f) => f.length), [10, 0, 300], `cut ${cut}`);
    assert.is(out[2]![299], 3);
    assert.is(d.buffered, 0);
  }
});

test('byte by byte', () => {
  const frame = encodeFrame(bytes(7, 9));
  const d = new FrameDecoder();
  const out: Uint8Array[] = [];
  for (const x of frame) out.push(...d.push(new Uint8Array([x])));
  assert.is(out.length, 1);
  assert.equal([...out[0]!], [9, 9, 9, 9, 9, 9, 9]);
});

test('frames and leftovers are copies, never views that keep a large read buffer alive', () => {
  // A Buffer chunk, as noise and yamux hand them over: Buffer#slice would be a view.
  const read = Buffer.alloc(64 * 1024);
  const frame = encodeFrame(bytes(100, 5));
  read.set(frame, 0);
  read.set(frame.subarray(0, 6), frame.length); // the start of a second frame
  const d = new FrameDecoder();
  const out = d.push(read.subarray(0, frame.length + 6));
  assert.is(out.length, 1);
  assert.is(out[0]!.buffer.byteLength, 100, 'the frame owns its bytes');
  assert.is(Buffer.isBuffer(out[0]), false, 'a plain Uint8Array');
  read.fill(0);
  assert.is(out[0]![99], 5, 'a later write to the chunk does not reach the frame');
  const rest = d.push(frame.subarray(6));
  assert.is(rest.length, 1);
  assert.is(rest[0]![0], 5, 'the leftover was copied before the chunk was reused');
});

test('a frame over 64 KiB is refused on both sides', () => {
  assert.throws(() => encodeFrame(bytes(MAX_FRAME_BYTES + 1, 0)), (e: unknown) => e instanceof FrameTooLarge);
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
  assert.throws(() => new FrameDecoder().push(header), (e: unknown) => e instanceof FrameTooLarge);
  assert.is(new FrameDecoder().push(encodeFrame(bytes(MAX_FRAME_BYTES, 1)))[0]!.length, MAX_FRAME_BYTES);
});

test.run();
