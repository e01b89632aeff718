// The virtual network: per-link latency models, loss, duplication, reordering and
// scheduled partitions. It decides when (and whether) a message sent now arrives;
// the world schedules the deliveries.
import type { LatencyModel, SimParams } from './params.ts';
import type { Prng } from './prng.ts';

/** Index the mint uses as an endpoint (nodes are 0..n-1). */
export const MINT = -1;
/** Wallets reach gateways from outside the node set. */
export const WALLET = -2;

export type Sampler = (from: number, to: number) => number;

export function latencySampler(model: LatencyModel, rng: Prng): Sampler {
  switch (model.model) {
    case 'constant': {
      const ms = model.ms;
      return () => ms;
    }
    case 'uniform': {
      const lo = Math.min(model.min, model.max);
      const span = Math.abs(model.max - model.min);
      return () => lo + rng.next() * span;
    }
    case 'lognormal': {
      const mu = Math.log(Math.max(model.median, 1e-6));
      const sigma = model.sigma;
      return () => Math.exp(mu + sigma * rng.normal());
    }
    case 'regions': {
      const m = model.matrix;
      const r = m.length;
      const jitter = model.jitter;
      // The mint and wallets sit in region 0.
      return (from, to) => {
        const a = from < 0 ? 0 : from % r;
        const b = to < 0 ? 0 : to % r;
        const base = m[a]![b] ?? m[b]![a] ?? 0;
        return base * (1 + jitter * rng.next());
      };
    }
  }
}

export class Network {
  private readonly link: Sampler;
  private readonly mintLink: Sampler;
  private readonly rng: Prng;
  private readonly loss: number;
  private readonly duplicate: number;
  private readonly reorder: number;
  private readonly reorderMs: number;
  /** Partition group of each node while a partition holds; null when whole. */
  private groups: Int32Array | null = null;
  /** How many groups the current partition has. */
  private groupCount = 0;
  dropped = 0;
  duplicated = 0;
  reordered = 0;
  partitionDrops = 0;

  constructor(p: SimParams['network'], rng: Prng) {
    this.rng = rng;
    this.link = latencySampler(p.latency, rng);
    this.mintLink = latencySampler(p.mintLatency, rng);
    this.loss = p.loss;
    this.duplicate = p.duplicate;
    this.reorder = p.reorder;
    this.reorderMs = p.reorderMs;
  }

  /** Splits the nodes into `groups` by index; the mint (and wallets) stay with group 0. */
  partition(nodeCount: number, groups: number): void {
    this.groupCount = groups;
    this.groups = new Int32Array(Math.max(nodeCount, 1));
    for (let i = 0; i < this.groups.length; i++) this.groups[i] = i % groups;
  }

  heal(): void {
    this.groups = null;
    this.groupCount = 0;
  }

  get partitioned(): boolean {
    return this.groups !== null;
  }

  /** Whether `a` and `b` can talk now (nodes added after the split join group 0). */
  connected(a: number, b: number): boolean {
    const g = this.groups;
    if (g === null) return true;
    const ga = a < 0 || a >= g.length ? 0 : g[a]!;
    const gb = b < 0 || b >= g.length ? 0 : g[b]!;
    return ga === gb;
  }

  /**
   * Delays, in ms, of the copies of one message from `from` to `to`: [] when it is
   * lost, two when it is duplicated. `reliable` (the mint's gossip, which the
   * gossip mesh repeats) skips loss and duplication but not latency.
   */
  delays(from: number, to: number, reliable: boolean, out: number[]): number {
    let n = 0;
    if (!reliable && this.loss > 0 && this.rng.next() < this.loss) {
      this.dropped++;
      return 0;
    }
    const copies = !reliable && this.duplicate > 0 && this.rng.next() < this.duplicate ? 2 : 1;
    if (copies === 2) this.duplicated++;
    const sample = from === MINT || to === MINT ? this.mintLink : this.link;
    for (let c = 0; c < copies; c++) {
      let d = sample(from, to);
      if (this.reorder > 0 && this.rng.next() < this.reorder) {
        d += this.rng.next() * this.reorderMs;
        this.reordered++;
      }
      out[n++] = d;
    }
    return n;
  }
}
