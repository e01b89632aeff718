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

/**
 * Turns a byte stream into frames. After a FrameTooLarge the stream is unusable: close it.
 *
 * Linear in the bytes received: each byte is copied at most once. A frame split across
 * chunks is filled into one buffer of its declared length (known from its header, at
 * most MAX_FRAME_BYTES), never by joining what is held with each new chunk: that join
 * made a 64 KiB frame sent in 1-byte writes cost 2 GB of copying.
 */
export class FrameDecoder {
  private readonly max: number;
  /** Header bytes of the next frame seen so far (0-3 held here). */
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** The frame being filled, once its header is in. */
  private partial: Uint8Array | null = null;
  private partialFill = 0;

  constructor(max = MAX_FRAME_BYTES) {
    this.max = max;
  }

  /** Bytes received towards a frame not yet complete. */
  get buffered(): number {
    return this.headerFill + (this.partial === null ? 0 : FRAME_HEADER_BYTES + this.partialFill);
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      if (this.partial !== null) {
        const take = Math.min(this.partial.length - this.partialFill, n - off);
        this.partial.set(chunk.subarray(off, off + take), this.partialFill);
        this.partialFill += take;
        off += take;
        if (this.partialFill === this.partial.length) {
          frames.push(this.partial);
          this.partial = null;
          this.partialFill = 0;
        }
        continue;
      }
      if (this.headerFill === 0 && n - off >= FRAME_HEADER_BYTES) {
        // The common case: a whole header, often the whole frame, in this chunk.
        const len = ((chunk[off]! << 24) >>> 0) + (chunk[off + 1]! << 16) + (chunk[off + 2]! << 8) + chunk[off + 3]!;
        if (len > this.max) throw new FrameTooLarge(len);
        off += FRAME_HEADER_BYTES;
        if (n - off >= len) {
          frames.push(copyOf(chunk, off, off + len));
          off += len;
        } else {
          this.partial = new Uint8Array(len);
        }
        continue;
      }
      this.header[this.headerFill++] = chunk[off++]!;
      if (this.headerFill === FRAME_HEADER_BYTES) {
        this.headerFill = 0;
        const h = this.header;
        const len = ((h[0]! << 24) >>> 0) + (h[1]! << 16) + (h[2]! << 8) + h[3]!;
        if (len > this.max) throw new FrameTooLarge(len);
        this.partial = new Uint8Array(len);
        if (len === 0) {
          frames.push(this.partial);
          this.partial = null;
        }
      }
    }
    return frames;
  }
}
