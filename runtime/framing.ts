// Length-prefixed frames on a long-lived libp2p stream: a 4-byte big-endian length,
// then that many bytes of one encoded message. The decoder takes chunks as they
// arrive (a frame may span chunks, a chunk may hold many frames).

/** protocol.md §2: a message is at most 64 KiB; epoch records travel by gossip or GET /epochs instead. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** The big-endian u32 length before each frame. */
export const FRAME_HEADER_BYTES = 4;

export class FrameTooLarge extends Error {
  readonly size: number;
  constructor(size: number) {
    super(`frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
    this.size = size;
  }
}

export function encodeFrame(payload: Uint8Array, max = MAX_FRAME_BYTES): Uint8Array {
  if (payload.length > max) throw new FrameTooLarge(payload.length);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * A copy of bytes [start, end), as a plain Uint8Array even when `b` is a Buffer (whose
 * own slice is a view). A frame outlives its chunk (a decoded transfer or vote keeps
 * views into its frame for as long as a lock or credit holds it), and a chunk is often
 * a view of a 64 KiB read: views kept 75 MB of them alive in a node after 20,000
 * transfers. Not a Buffer either: Buffer's subarray (a decoder's every field) runs in
 * JS, and building one through its constructor cost ~0.7 % of a node's CPU.
 */
const copyOf = (b: Uint8Array, start: number, end = b.length): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset + start, b.byteOffset + end));

/** Turns a byte stream into frames. After a FrameTooLarge the stream is unusable: close it. */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly max: number;
  constructor(max = MAX_FRAME_BYTES) {
    this.max = max;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.buf.length === 0) this.buf = chunk;
    else {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      this.buf = joined;
    }
    const frames: Uint8Array[] = [];
    let off = 0;
    while (this.buf.length - off >= FRAME_HEADER_BYTES) {
      const len = new DataView(this.buf.buffer, this.buf.byteOffset + off, FRAME_HEADER_BYTES).getUint32(0);
      if (len > this.max) throw new FrameTooLarge(len);
      if (this.buf.length - off - FRAME_HEADER_BYTES < len) break;
      frames.push(copyOf(this.buf, off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len));
      off += FRAME_HEADER_BYTES + len;
    }
    this.buf = off === this.buf.length ? new Uint8Array(0) : copyOf(this.buf, off);
    return frames;
  }
}
