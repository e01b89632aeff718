// The simulator's one source of randomness: sfc32 (a small, fast, well-tested
// 32-bit generator), seeded from the run's seed. Every random choice of a run draws
// from generators forked off this one, so the same seed replays the same run.
import type { Random } from '../protocol/ports.ts';

const TWO32 = 4294967296;

export class Prng implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const s = typeof seed === 'number' ? String(seed) : seed;
    // Spread the seed text over four words (FNV-1a variants), then warm up.
    let h1 = 0x811c9dc5, h2 = 0x9e3779b9, h3 = 0x85ebca6b, h4 = 0xc2b2ae35;
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 0x01000193);
      h2 = Math.imul(h2 ^ ch, 0x5bd1e995);
      h3 = Math.imul(h3 ^ ch, 0x27d4eb2d);
      h4 = Math.imul(h4 ^ ch, 0x165667b1);
    }
    this.a = h1 >>> 0; this.b = h2 >>> 0; this.c = h3 >>> 0; this.d = (h4 | 1) >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / TWO32;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bool(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** Exponential with the given mean (Poisson inter-arrival times). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Standard normal (Box-Muller; one value per call keeps the stream simple). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A child generator whose stream depends on this seed and `label` only. */
  fork(label: string): Prng {
    return new Prng(`${this.a},${this.b},${this.c},${this.d}/${label}`);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const x = this.u32();
      out[i] = x & 255;
      if (i + 1 < n) out[i + 1] = (x >>> 8) & 255;
      if (i + 2 < n) out[i + 2] = (x >>> 16) & 255;
      if (i + 3 < n) out[i + 3] = x >>> 24;
    }
    return out;
  }
}

/**
 * Zipf(s) over [0, n): rank r drawn with probability proportional to 1/(r+1)^s, by
 * binary search in a precomputed CDF (n floats; built once per run).
 */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += 1 / Math.pow(i + 1, s);
      this.cdf[i] = sum;
    }
    for (let i = 0; i < n; i++) this.cdf[i] = this.cdf[i]! / sum;
  }

  sample(rng: Prng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
