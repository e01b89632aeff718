// What the reporters of an account said, and what enough of them agree on
// (protocol.md §7 merge): a pool per group (the old custodians, or the
// co-custodians) and epoch, the points (seq, head, debit total) reports vouch for,
// and the f + 1 threshold. Handoff (handoff.ts) fills pools and merges what they agree on.
import { toHex } from '../../protocol/bytes.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import type { AccountState } from '../../protocol/handoff-codec.ts';
import type { Ring } from '../../protocol/ring.ts';

/** What one group of reporters (the old custodians, or the co-custodians) said about an account in one epoch. */
export type Pool = {
  /** Names the pool among every pool this process made (lone-credits.ts keys by it). */
  readonly id: number;
  readonly epoch: number;
  readonly ring: Ring;
  /** Reporter hex -> its (checked) state; pages repeat the head, so the last one stands. */
  readonly states: Map<string, AccountState>;
  /** Reporters whose last page arrived. */
  readonly finished: Set<string>;
  /** Credit `${id}/${amount}` -> reporters listing it. */
  readonly credits: Map<string, Set<string>>;
  readonly frozen: Set<string>;
};

export type Pools = { old?: Pool; peer?: Pool };

/**
 * f + 1: reporters needed so that at least one is honest. f = k - q is how many of a
 * group may lie, but at k = q it is 0, and one reporter's word would merge a lone
 * Byzantine member's invented credits, head and freeze: one liar is always allowed
 * for (a group of one has no second word to ask).
 */
export function threshold(ring: Ring): number {
  return honestReporters(ring.k, ring.q);
}

/** threshold() for a group of k custodians with quorum q (also what a history read asks for). */
export function honestReporters(k: number, q: number): number {
  return Math.min(k, Math.max(k - q, 1) + 1);
}

/** The highest point (seq, head, debit total) that f + 1 reporters of the pool agree on. */
export function agreed(pool: Pool): Point | null {
  const need = threshold(pool.ring);
  let best: Point | null = null;
  let tied = false;
  const all = [...points(pool).values()];
  for (const p of all) {
    if (p.from.size < need) continue;
    if (best === null || p.seq > best.seq) {
      best = p;
      tied = false;
    } else if (p.seq === best.seq) tied = true;
  }
  // Two agreed heads at one seq: a double spend that no certificate settled here; go lower.
  if (tied && best !== null) {
    const below = all.filter((p) => p.from.size >= need && p.seq < best!.seq);
    best = below.reduce<Point | null>((m, p) => (m === null || p.seq > m.seq ? p : m), null);
  }
  return best;
}

export type Point = { readonly seq: number; readonly state: AccountState | null; readonly at: number; readonly debited: bigint; readonly from: Set<string> };

/** The locks of a point, from its seq down. */
export function chainOf(p: Point): readonly Transfer[] {
  if (p.state === null || p.state.head === null) return [];
  return [p.state.head, ...p.state.recent].slice(p.at);
}

/** A state that says nothing: no head, no credits, not frozen, all of it. */
export function isEmpty(s: AccountState): boolean {
  return s.head === null && s.seq === 0 && s.credits.length === 0 && s.credited === 0n && s.debited === 0n && !s.frozen && !s.more;
}

/** Counts a reporter's (empty) state in a pool without merging anything. */
export function heard(pool: Pool, sender: string, s: AccountState): void {
  pool.states.set(sender, s);
  if (!s.more) pool.finished.add(sender);
}

let poolsMade = 0;

export function newPool(epoch: number, ring: Ring): Pool {
  return { id: poolsMade++, epoch, ring, states: new Map(), finished: new Set(), credits: new Map(), frozen: new Set() };
}

/** One report's points, in chain order: the key two reporters must share, and where it sits in the report's chain (-1: the empty account). */
type ReportPoint = { readonly key: string; readonly seq: number; readonly at: number; readonly debited: bigint };

/**
 * Each report's points, worked out once: a pool's points are counted again at every
 * report that joins it, and naming a point hashes its lock (65 a report).
 */
const reportPoints = new WeakMap<AccountState, readonly ReportPoint[]>();

function pointsOf(s: AccountState): readonly ReportPoint[] {
  const known = reportPoints.get(s);
  if (known !== undefined) return known;
  const out: ReportPoint[] = [];
  const empty: ReportPoint = { key: '0', seq: 0, at: -1, debited: 0n };
  if (s.head === null) out.push(empty);
  else {
    const chain = [s.head, ...s.recent];
    let d = s.debited;
    for (let i = 0; i < chain.length && d >= 0n; i++) {
      const t = chain[i]!;
      out.push({ key: `${t.seq}/${toHex(transferId(t))}/${d}`, seq: t.seq, at: i, debited: d });
      d -= t.amount;
    }
    if (d === 0n && chain[chain.length - 1]!.seq === 1) out.push(empty);
  }
  reportPoints.set(s, out);
  return out;
}

/**
 * Every (seq, lock, debit total) a pool's reports vouch for: a report's head, and each
 * recent lock with the total less the debits above it, so replicas a few seqs apart agree.
 */
function points(pool: Pool): Map<string, Point> {
  const out = new Map<string, Point>();
  for (const [sender, s] of pool.states) {
    for (const r of pointsOf(s)) {
      let p = out.get(r.key);
      if (!p) out.set(r.key, (p = { seq: r.seq, state: r.at < 0 ? null : s, at: r.at, debited: r.debited, from: new Set() }));
      p.from.add(sender);
    }
  }
  return out;
}
