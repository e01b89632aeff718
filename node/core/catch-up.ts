// Catch-up over any gap (protocol.md §7, Catch-up): a node that learns of an epoch later
// than the next one asks the mint (and, on alternate tries, a member of its newest ring)
// for the records it lacks, a bounded batch at a time, and applies them as a signed
// chain. While it knows of a later epoch than its newest it is `behind`: it votes for
// nothing and accepts no new certificate (node-context.ts isFresh). It answers its
// peers' requests from the records it holds, at a bounded rate.
import { Rejection } from '../../protocol/errors.ts';
import type { EpochRecord } from '../../protocol/objects.ts';
import { validateEpoch } from '../../protocol/ring.ts';
import { hexOf, type NodeContext } from './node-context.ts';

/** Records held ahead of a gap; later ones are only noted (knownHead) and fetched in turn. */
export const MAX_FUTURE_EPOCHS = 64;
/** Records one answer carries (epoch records can be large: members × 32 bytes). */
export const EPOCHS_PER_ANSWER = 16;
/** A request for the missing records is sent at most this often. */
export const EPOCH_REQUEST_MS = 1_000;
/** Peers' epoch requests answered per second, all peers together; the rest are dropped. */
export const EPOCH_ANSWERS_PER_SECOND = 32;

export class CatchUp {
  private readonly ctx: NodeContext;
  private readonly future = new Map<number, EpochRecord>();
  /** The highest epoch number seen in a mint-signed record. */
  private knownHead = 0;
  private lastRequestAt = -Infinity;
  private tries = 0;
  private answerWindow = -Infinity;
  private answers = 0;
  /** Set by a restart: ask the mint once whether epochs passed while this node was down. */
  private askOnNextTick = false;

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
  }

  get head(): number {
    return Math.max(this.knownHead, this.ctx.epoch);
  }

  /** After a restore: the next tick asks for what may have passed meanwhile. */
  restarted(): void {
    this.askOnNextTick = true;
  }

  /**
   * A mint-signed record beyond the next epoch: kept (bounded) or noted, the node marked
   * behind, and the gap asked for. Returns false for a record not signed by the mint.
   */
  onFuture(record: EpochRecord): boolean {
    const ctx = this.ctx;
    try {
      validateEpoch(record, ctx.genesis.mintKey, ctx.scheme);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      return false; // a forged record must not mark this node behind (it would stop voting)
    }
    if (record.network !== ctx.network) return false;
    if (record.epoch > this.knownHead) this.knownHead = record.epoch;
    if (record.epoch <= ctx.epoch + MAX_FUTURE_EPOCHS && this.future.size < MAX_FUTURE_EPOCHS) this.future.set(record.epoch, record);
    ctx.behind = true;
    this.request(true);
    return true;
  }

  /** Records held ahead of the next one (tests check the bound). */
  get held(): number {
    return this.future.size;
  }

  /** The record that follows the newest one, if held. */
  take(n: number): EpochRecord | undefined {
    const r = this.future.get(n);
    if (r !== undefined) this.future.delete(n);
    return r;
  }

  /** After records were applied: still behind? then ask for the next batch. */
  settle(): void {
    const ctx = this.ctx;
    for (const n of this.future.keys()) if (n <= ctx.epoch) this.future.delete(n);
    ctx.behind = this.head > ctx.epoch;
    if (ctx.behind) this.request(true);
    else this.tries = 0;
  }

  tick(now: number): void {
    if (this.askOnNextTick) {
      this.askOnNextTick = false;
      this.ctx.sendMint({ type: 'epoch-request', from: this.ctx.epoch + 1 });
      this.lastRequestAt = now;
      return;
    }
    if ((this.ctx.behind || this.hinted()) && now - this.lastRequestAt >= EPOCH_REQUEST_MS) {
      // A hint is asked about once: a peer naming epochs that do not exist costs one request a second at most.
      this.ctx.epochHint = 0;
      this.request(false);
    }
  }

  /** A peer named a later epoch than this node's newest (node-context.ts epochHint). */
  private hinted(): boolean {
    return this.ctx.epochHint > this.ctx.epoch;
  }

  nextWakeupAt(): number {
    if (this.askOnNextTick) return this.ctx.now();
    return this.ctx.behind || this.hinted() ? this.lastRequestAt + EPOCH_REQUEST_MS : Infinity;
  }

  /** Mint first; every other try a member of the newest ring, so a mint that does not answer does not stall the node. */
  private request(soon: boolean): void {
    const ctx = this.ctx;
    const now = ctx.now();
    if (soon && now - this.lastRequestAt < EPOCH_REQUEST_MS / 4) return;
    this.lastRequestAt = now;
    const msg = { type: 'epoch-request', from: ctx.epoch + 1 } as const;
    if (this.tries++ % 2 === 0) return ctx.sendMint(msg);
    const members = ctx.record.members;
    const peer = members[Math.floor(ctx.random.next() * members.length)];
    if (peer === undefined || ctx.isMe(peer)) return ctx.sendMint(msg);
    ctx.sendHex(hexOf(peer), msg);
  }

  /** A peer's request: the records from `from` on that this node holds, at a bounded rate. */
  onRequest(peer: string, from: number): void {
    const ctx = this.ctx;
    const now = ctx.now();
    if (now - this.answerWindow >= 1_000) {
      this.answerWindow = now;
      this.answers = 0;
    }
    const start = Math.max(1, from);
    if (start > ctx.epoch || this.answers >= EPOCH_ANSWERS_PER_SECOND) return;
    this.answers++;
    for (let n = start; n < start + EPOCHS_PER_ANSWER && n <= ctx.epoch; n++) ctx.sendHex(peer, { type: 'epoch', record: ctx.recordOf(n)! });
  }
}
