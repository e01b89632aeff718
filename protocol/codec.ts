// The canonical binary layout (protocol.md §2): fixed-width big-endian integers, fixed-size
// keys, u16-length-prefixed byte strings and lists. Every value has exactly one
// encoding, so decoding can be strict: any truncated, trailing, oversized or
// non-canonical byte is a typed rejection, never a crash.
import { Reason, Rejection } from './errors.ts';
import type { Bytes } from './bytes.ts';

/** Largest message the protocol accepts; bounds memory per decode (protocol.md §2). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const U64_MAX = (1n << 64n) - 1n;

/** Slab for finishShared: small enough that a few live views do not pin much. */
const SLAB_BYTES = 16 * 1024;
const SHARED_MAX_BYTES = 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabOff = 0;

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private n = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private need(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.n + k) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    // Without the check, 256 would silently encode as 0 (e.g. a 256-vote certificate).
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    this.need(1);
    this.buf[this.n++] = v;
    return this;
  }
  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    this.need(2);
    this.view.setUint16(this.n, v);
    this.n += 2;
    return this;
  }
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    this.need(4);
    this.view.setUint32(this.n, v);
    this.n += 4;
    return this;
  }
  /** A u64 held as a JS number (seq, epoch, times): must be a safe integer. */
  u64n(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u64 out of range: ${v}`);
    // Two u32 halves: the same bytes as setBigUint64, without a BigInt per field.
    this.need(8);
    this.view.setUint32(this.n, Math.floor(v / 0x100000000));
    this.view.setUint32(this.n + 4, v >>> 0);
    this.n += 8;
    return this;
  }
  u64(v: bigint): this {
    if (v < 0n || v > U64_MAX) throw new RangeError(`u64 out of range: ${v}`);
    this.need(8);
    this.view.setBigUint64(this.n, v);
    this.n += 8;
    return this;
  }
  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }
  /** Fixed-size bytes (keys, hashes, signatures): the length is part of the type. */
  fixed(b: Bytes, size: number): this {
    if (b.length !== size) throw new RangeError(`expected ${size} bytes, got ${b.length}`);
    this.need(size);
    this.buf.set(b, this.n);
    this.n += size;
    return this;
  }
  /** Variable bytes with a u16 length prefix. */
  var(b: Bytes): this {
    this.u16(b.length);
    this.need(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  /** Raw bytes that are themselves a complete canonical encoding. */
  raw(b: Bytes): this {
    this.need(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  string(s: string): this {
    return this.var(new TextEncoder().encode(s));
  }
  finish(): Bytes {
    return this.buf.slice(0, this.n);
  }
  /** The bytes written, as a view valid only until the writer is next written or reset. */
  written(): Bytes {
    return this.buf.subarray(0, this.n);
  }
  /**
   * The bytes written, as a view into a shared slab: many small long-lived results
   * (signing payloads) without an ArrayBuffer each. Large results get their own buffer.
   */
  finishShared(): Bytes {
    const n = this.n;
    if (n > SHARED_MAX_BYTES) return this.finish();
    if (slabOff + n > SLAB_BYTES) {
      slab = new Uint8Array(SLAB_BYTES);
      slabOff = 0;
    }
    const out = slab.subarray(slabOff, slabOff + n);
    out.set(this.buf.subarray(0, n));
    slabOff = (slabOff + n + 7) & ~7;
    return out;
  }
  /** Overwrites 4 bytes already written at `at` (a length prefix known only after its body). */
  patchU32(at: number, v: number): this {
    this.view.setUint32(at, v);
    return this;
  }
  /** Drops everything written after the first `n` bytes (undoes a failed encode). */
  truncate(n: number): this {
    if (n < this.n) this.n = n;
    return this;
  }
  /** Empties the writer, keeping its buffer: scratch writers are reused across encodes. */
  reset(): this {
    this.n = 0;
    return this;
  }
  get length(): number {
    return this.n;
  }
  get capacity(): number {
    return this.buf.length;
  }
}

// ignoreBOM keeps a leading U+FEFF in the text: stripping it would give one string two encodings.
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class Reader {
  private readonly view: DataView;
  private off = 0;
  readonly bytes: Bytes;
  /**
   * The network the bytes belong to. It is not in an object's bytes (it is in every
   * signed payload), so the reader carries it to every signed object it decodes.
   */
  readonly network: string;

  constructor(bytes: Bytes, maxBytes: number = MAX_MESSAGE_BYTES, network = '') {
    if (bytes.length > maxBytes) {
      throw new Rejection(Reason.OVERSIZED, `message of ${bytes.length} bytes exceeds ${maxBytes}`);
    }
    this.bytes = bytes;
    this.network = network;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.off;
  }

  private take(k: number): number {
    if (this.off + k > this.bytes.length) throw new Rejection(Reason.TRUNCATED, `needed ${k} more bytes at offset ${this.off}`);
    const at = this.off;
    this.off += k;
    return at;
  }

  u8(): number {
    return this.bytes[this.take(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.take(2));
  }
  u32(): number {
    return this.view.getUint32(this.take(4));
  }
  u64(): bigint {
    return this.view.getBigUint64(this.take(8));
  }
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Rejection(Reason.MALFORMED, `integer ${v} out of range`);
    return Number(v);
  }
  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new Rejection(Reason.NON_CANONICAL, `boolean byte ${v}`);
    return v === 1;
  }
  /** Fields are views into the message buffer, not copies: decoding is on the custodian's hot path. */
  fixed(size: number): Bytes {
    const at = this.take(size);
    return this.bytes.subarray(at, at + size);
  }
  var(max: number): Bytes {
    const n = this.u16();
    if (n > max) throw new Rejection(Reason.OVERSIZED, `field of ${n} bytes exceeds ${max}`);
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }
  string(max: number): string {
    try {
      return utf8Strict.decode(this.var(max));
    } catch (e) {
      if (e instanceof Rejection) throw e;
      throw new Rejection(Reason.MALFORMED, 'invalid UTF-8');
    }
  }
  /** A list count, bounded so a hostile count cannot make us allocate. */
  count(max: number): number {
    const n = this.u16();
    if (n > max) throw new Rejection(Reason.OVERSIZED, `list of ${n} exceeds ${max}`);
    return n;
  }
  /** The bytes consumed since `start`, for objects whose id is a hash of their encoding. */
  since(start: number): Bytes {
    return this.bytes.slice(start, this.off);
  }
  end(): void {
    if (this.off !== this.bytes.length) {
      throw new Rejection(Reason.MALFORMED, `${this.bytes.length - this.off} trailing bytes`);
    }
  }
}

/** Decode a whole buffer with `read`, rejecting trailing bytes. */
export function decodeAll<T>(bytes: Bytes, read: (r: Reader) => T, network = ''): T {
  const r = new Reader(bytes, MAX_MESSAGE_BYTES, network);
  const v = read(r);
  r.end();
  return v;
}

/**
 * How one signed object type's body is laid out. `batchable`: objects of this type may
 * carry a batch signature (batch-signature.ts), encoded u8 depth ‖ signature bytes.
 * `keepsPayload`: its signing payload is kept once written (a transfer's id is needed next).
 */
export type BodyCodec<B> = { readonly tag: string; readonly batchable?: true; readonly keepsPayload?: true; write(w: Writer, b: B): void; read(r: Reader): B };
