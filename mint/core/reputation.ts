// Reputation (protocol.md §6): scores start at 0, move only by signed, numbered events,
// decay toward 0 once per epoch, and decide who is graylisted (notices dropped
// unread) and who is evicted. A proven equivocator is banned for good.
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { ReputationEvent } from './api.ts';
import type { Reader, Writer } from '../../protocol/codec.ts';
import type { ReputationParams } from '../../protocol/genesis.ts';
import { sign, verify } from '../../protocol/objects.ts';
import type { Signer, Verifier } from '../../protocol/signature.ts';

export type ReputationReason = ReputationEvent['reason'];
export type ReputationBody = Omit<ReputationEvent, 'sig'>;

/**
 * A banned node's score. Finite so it survives JSON (-Infinity would not); banned
 * scores never decay, so the node stays below every threshold for good.
 */
export const BANNED_SCORE = -1_000_000;

/**
 * Decay stops here: |score| below this is set to 0, so decay of a long-idle
 * score ends instead of emitting a tiny event every epoch forever.
 */
export const DECAY_FLOOR = 1e-6;

/**
 * Notices rewarded per reporter per epoch (protocol.md §6, Rewards): even evidence that cost
 * its double spender something earns a reporter at most this much a epoch, so farming
 * with funded throwaway accounts is bounded by what it burns.
 */
export const MAX_REWARDS_PER_EPOCH = 3;

const REASON_CODE = { 'valid-notice': 1, 'duplicate-notice': 2, 'invalid-notice': 3, equivocation: 4, decay: 5 } as const satisfies Record<ReputationReason, number>;
const REASON_BY_CODE = new Map<number, ReputationReason>(Object.entries(REASON_CODE).map(([r, c]) => [c, r as ReputationReason]));

function writeF64(w: Writer, v: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`score not finite: ${v}`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  w.fixed(b, 8);
}
function readF64(r: Reader): number {
  const b = r.fixed(8);
  const v = new DataView(b.buffer, b.byteOffset, 8).getFloat64(0);
  if (!Number.isFinite(v)) throw new Rejection(Reason.MALFORMED, 'score not finite');
  return v;
}

/**
 * Canonical layout of a reputation event, signed under `ringmint/1/reputation` +
 * network: u64 seq ‖ node(32) ‖ f64 delta ‖ f64 score ‖ u8 reason ‖ u64 epoch ‖ u64 at.
 * Scores are IEEE-754 doubles, big-endian, so anyone can recompute score = old + delta.
 */
export const ReputationCodec = {
  tag: 'reputation',
  write(w: Writer, e: ReputationBody): void {
    w.u64n(e.seq).fixed(e.node, 32);
    writeF64(w, e.delta);
    writeF64(w, e.score);
    w.u8(REASON_CODE[e.reason]).u64n(e.epoch).u64n(e.at);
  },
  read(r: Reader): ReputationBody {
    const seq = r.u64n();
    const node = r.fixed(32);
    const delta = readF64(r);
    const score = readF64(r);
    const code = r.u8();
    const reason = REASON_BY_CODE.get(code);
    if (reason === undefined) throw new Rejection(Reason.MALFORMED, `unknown reputation reason ${code}`);
    return { seq, node, delta, score, reason, epoch: r.u64n(), at: r.u64n() };
  },
};

export function writeReputationEvent(w: Writer, e: ReputationEvent): void {
  ReputationCodec.write(w, e);
  w.fixed(e.sig, 64);
}
export function readReputationEvent(r: Reader): ReputationEvent {
  const body = ReputationCodec.read(r);
  return { ...body, sig: r.fixed(64) };
}

/** Anyone holding the genesis can check that the mint made this score change. */
export function verifyReputationEvent(network: string, verifier: Verifier, mintKey: Bytes, e: ReputationEvent): boolean {
  return verify(ReputationCodec, network, verifier, mintKey, e);
}

export class ReputationBook {
  private readonly params: ReputationParams;
  private readonly network: string;
  private readonly signer: Signer;
  private readonly scores = new Map<string, number>();
  private readonly banned = new Set<string>();
  private readonly log: ReputationEvent[] = [];
  /** Rewarded notices per reporter in `rewardEpoch` (only that epoch is kept: the cap is per epoch). */
  private readonly rewards = new Map<string, number>();
  private rewardEpoch = -1;

  constructor(network: string, signer: Signer, params: ReputationParams) {
    this.network = network;
    this.signer = signer;
    this.params = params;
  }

  score(node: string): number {
    return this.scores.get(node) ?? 0;
  }
  isBanned(node: string): boolean {
    return this.banned.has(node);
  }
  /** Below the graylist line a node's notices are dropped unread. */
  isGraylisted(node: string): boolean {
    return this.banned.has(node) || this.score(node) < this.params.graylist;
  }
  /** Banned, or below the eviction line: out at the next epoch, and not re-admitted while so. */
  shouldEvict(node: string): boolean {
    return this.banned.has(node) || this.score(node) < this.params.evict;
  }
  /** Whether shouldEvict can hold for any node (the epoch tick skips its scan of every member when not). */
  anyEvictable(): boolean {
    if (this.banned.size > 0 || 0 < this.params.evict) return true;
    for (const s of this.scores.values()) if (s < this.params.evict) return true;
    return false;
  }
  all(): ReadonlyMap<string, number> {
    return this.scores;
  }
  events(): readonly ReputationEvent[] {
    return this.log;
  }

  /** The signed event for a notice verdict or a ban; not yet applied (the machine logs, then applies). */
  change(node: Bytes, reason: Exclude<ReputationReason, 'decay'>, epoch: number, at: number): ReputationEvent | undefined {
    const key = toHex(node);
    if (this.banned.has(key)) return undefined; // a banned score moves no more
    const old = this.score(key);
    const next =
      reason === 'equivocation' ? BANNED_SCORE
      : reason === 'valid-notice' ? old + this.params.validNotice
      : reason === 'duplicate-notice' ? old + this.params.duplicateNotice
      : old + this.params.invalidNotice;
    return this.make(node, old, next, reason, epoch, at);
  }

  /** Decay events for every non-zero, non-banned score, in node order (deterministic). */
  decay(epoch: number, at: number): ReputationEvent[] {
    const out: ReputationEvent[] = [];
    const seqBase = this.log.length;
    const keys = [...this.scores.keys()].filter((k) => !this.banned.has(k) && this.scores.get(k) !== 0).sort();
    for (const key of keys) {
      const old = this.scores.get(key)!;
      let next = old * this.params.decay;
      if (Math.abs(next) < DECAY_FLOOR) next = 0;
      out.push(this.make(Buffer.from(key, 'hex'), old, next, 'decay', epoch, at, seqBase + out.length + 1));
    }
    return out;
  }

  private make(node: Bytes, old: number, next: number, reason: ReputationReason, epoch: number, at: number, seq = this.log.length + 1): ReputationEvent {
    return sign(ReputationCodec, this.network, this.signer, { seq, node: Uint8Array.from(node), delta: next - old, score: next, reason, epoch, at });
  }

  /** Whether `node` may still be rewarded for a notice in `epoch` (MAX_REWARDS_PER_EPOCH). */
  mayReward(node: string, epoch: number): boolean {
    return epoch !== this.rewardEpoch || (this.rewards.get(node) ?? 0) < MAX_REWARDS_PER_EPOCH;
  }

  /** Live and on restore: the event's score is taken as is, so replay gives identical doubles. */
  apply(e: ReputationEvent): void {
    const key = toHex(e.node);
    if (e.delta > 0 && (e.reason === 'valid-notice' || e.reason === 'duplicate-notice')) {
      if (e.epoch !== this.rewardEpoch) {
        this.rewardEpoch = e.epoch;
        this.rewards.clear();
      }
      this.rewards.set(key, (this.rewards.get(key) ?? 0) + 1);
    }
    this.scores.set(key, e.score);
    if (e.reason === 'equivocation') this.banned.add(key);
    this.log.push(e);
  }
}
