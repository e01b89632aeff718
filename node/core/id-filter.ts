// A set of transfer ids that answers "surely not in it" from memory: a node that
// reads its history back from its records (NodeInit.records) asks here before it
// asks its store whether it holds a credit or a bundle. Nearly every such question
// is about a new transfer, and a store read that misses costs ~10 µs under load and
// counts toward LevelDB's seek compactions; this costs well under 1 µs.
//
// A scalable Bloom filter (Almeida et al., 2007): segments of doubling capacity, each
// with one more probe than the last, so the false-positive rate stays under
// 2^-6 however many ids come. Two to four bytes per id (segments are powers of two),
// against ~100 for a set of them. Transfer ids are SHA-256 digests, so probe positions are cut from
// the id's own bits (double hashing) with no hashing here; ids ground to collide
// only buy their sender store reads.
import type { Bytes } from '../../protocol/bytes.ts';

/** Ids the first segment holds before the next one starts (128 KiB of bits). */
const FIRST_CAPACITY = 1 << 16;
/** Probes of the first segment: a false-positive rate of 2^-7 (~0.8 %) when full. */
const FIRST_PROBES = 7;

type Segment = { readonly bits: Uint32Array; readonly mask: number; readonly probes: number; readonly capacity: number; count: number };

/** The u32 (little-endian) at word `w` (0..7) of a 32-byte id. */
function word(id: Bytes, w: number): number {
  const o = w * 4;
  return (id[o]! | (id[o + 1]! << 8) | (id[o + 2]! << 16) | (id[o + 3]! << 24)) >>> 0;
}

export class IdFilter {
  private readonly segments: Segment[] = [];
  private size = 0;

  /** Ids added so far. */
  get count(): number {
    return this.size;
  }

  /** Bytes of filter held (metrics). */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bits.byteLength;
    return n;
  }

  add(id: Bytes): void {
    let s = this.segments[this.segments.length - 1];
    if (s === undefined || s.count >= s.capacity) s = this.grow();
    this.set(s, this.segments.length - 1, id);
    s.count++;
    this.size++;
  }

  /** False: the id was surely never added. True: it may have been (ask the store). */
  mayHave(id: Bytes): boolean {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.test(this.segments[i]!, i, id)) return true;
    return false;
  }

  private grow(): Segment {
    const i = this.segments.length;
    const capacity = FIRST_CAPACITY * 2 ** i;
    const probes = FIRST_PROBES + i;
    // m = n·k / ln 2 bits for a fill of one half, rounded up to a power of two (a mask, not a modulo).
    const bits = 2 ** Math.ceil(Math.log2((capacity * probes) / Math.LN2));
    const s: Segment = { bits: new Uint32Array(bits / 32), mask: bits - 1, probes, capacity, count: 0 };
    this.segments.push(s);
    return s;
  }

  /** Probe j of segment i: h1 + j·h2 over two words of the id that differ per segment. */
  private set(s: Segment, i: number, id: Bytes): void {
    const h1 = word(id, (2 * i) & 7);
    const h2 = word(id, (2 * i + 1) & 7) | 1;
    for (let j = 0; j < s.probes; j++) {
      const p = (h1 + Math.imul(j, h2)) & s.mask;
      s.bits[p >>> 5]! |= 1 << (p & 31);
    }
  }

  private test(s: Segment, i: number, id: Bytes): boolean {
    const h1 = word(id, (2 * i) & 7);
    const h2 = word(id, (2 * i + 1) & 7) | 1;
    for (let j = 0; j < s.probes; j++) {
      const p = (h1 + Math.imul(j, h2)) & s.mask;
      if ((s.bits[p >>> 5]! & (1 << (p & 31))) === 0) return false;
    }
    return true;
  }
}
