// The gateway's side of protocol.md §5: gather q votes into a certificate, have the
// recipient's custodians credit it, gather q receipts into a bundle, and have f + 1
// of its storage nodes acknowledge their copies. Retries on tick; everything is
// idempotent by transfer id. The views it keeps are gateway-views.ts; its search for
// an equivocator after a conflict is rival-search.ts.
// Gateway state is soft: after a crash the custodians that hold the lock take the
// transfer over (completion.ts, protocol.md §5a), or the wallet resubmits, and the
// custodians answer the same votes and receipts again.
import { compare, equal, type Bytes } from '../../protocol/bytes.ts';
import { Reason, type ReasonCode } from '../../protocol/errors.ts';
import type { TransferStatus, TransferView } from './api.ts';
import {
  NoticeCodec, ReceiptCodec, TransferCodec, VoteCodec, doubleSpendEvidence, sign, transferId, verify,
  type Certificate, type Receipt, type Transfer, type Vote,
} from '../../protocol/objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import type { Ring } from '../../protocol/ring.ts';
import { threshold } from './handoff-pool.ts';
import { GatewayViews, type BundleSource, type Pending } from './gateway-views.ts';
import { RivalSearches } from './rival-search.ts';

/**
 * Reasons that stay true until the account changes: once more than k - q
 * custodians give one, q votes are out of reach and the transfer is rejected.
 * Others (SEQ_GAP, NOT_SYNCED, NOT_CUSTODIAN, UNKNOWN_EPOCH) pass with time.
 */
const FINAL_REASONS = new Set<ReasonCode>([
  Reason.BAD_SIGNATURE, Reason.SEQ_USED, Reason.BAD_PREV, Reason.INSUFFICIENT_FUNDS, Reason.FROZEN, Reason.SUPPLY_CAP, Reason.SELF_TRANSFER,
]);

/** A certified transfer's retries past maxRetries double in interval this many times at most (16 intervals apart then). */
export const MAX_BACKOFF_DOUBLINGS = 4;

export class Gateway {
  private readonly ctx: NodeContext;
  /** Every transfer in hand here, finished and parked ones within their bounds. */
  private readonly views: GatewayViews;
  /** Transfers with work left, visited on tick. */
  private readonly active = new Set<Pending>();
  private readonly bundles: BundleSource;
  private readonly rivals: RivalSearches;
  /** A transfer reached its end here (stored, rejected or conflict): completion.ts tells its custodians. */
  onFinished: (t: Transfer, id: Bytes, stored: boolean, cert: Certificate | null) => void = () => {};

  constructor(ctx: NodeContext, bundles: BundleSource) {
    this.ctx = ctx;
    this.bundles = bundles;
    this.views = new GatewayViews(ctx, bundles);
    this.rivals = new RivalSearches(ctx, bundles);
  }

  view(id: Bytes): TransferView | undefined {
    return this.views.view(id);
  }

  private setStatus(p: Pending, status: TransferStatus, reason?: ReasonCode, detail?: string): void {
    if (p.status === status && reason === p.reason) return;
    p.status = status;
    if (reason !== undefined) {
      p.reason = reason;
      p.detail = detail ?? '';
    }
    if (p.times[status] === undefined) p.times[status] = this.ctx.now();
    this.ctx.emit(reason !== undefined ? { type: 'status', transferId: p.id, status, reason } : { type: 'status', transferId: p.id, status });
    if (status === 'rejected' && reason !== undefined) this.ctx.emit({ type: 'rejected', transferId: p.id, reason, detail: detail ?? '' });
    if (status === 'rejected' || status === 'conflict') this.views.park(p, this.active);
  }

  /** protocol.md §5 step 1: a wallet's signed transfer. A known one is resumed, never duplicated. */
  submit(t: Transfer): void {
    const ctx = this.ctx;
    const id = transferId(t);
    // hexOf (cached per id object) on every lookup: ids arrive as the same objects again and again.
    const idHex = hexOf(id);
    let p = this.views.get(idHex);
    if (p && p.reason === Reason.BAD_SIGNATURE) {
      // Ids do not cover the signature: a forged copy must not shadow the genuine transfer.
      if (equal(p.transfer.sig, t.sig) || !verify(TransferCodec, ctx.network, ctx.scheme, t.from, t)) return;
      this.views.forget(idHex);
      this.active.delete(p);
      p = undefined;
    }
    if (p) {
      if (p.status === 'rejected' || (p.phase !== 'done' && !this.active.has(p))) {
        // Resubmitted as is (protocol.md §5): try again from where it stands.
        p.rejects.clear();
        if (p.status === 'rejected') {
          p.status = 'pending';
          p.phase = 'voting';
          delete p.reason;
          delete p.detail;
        }
        p.tries = 0;
        this.views.unpark(idHex);
        this.active.add(p);
        this.act(p);
      }
      return;
    }
    p = this.create(t, id, idHex);
    if (!verify(TransferCodec, ctx.network, ctx.scheme, t.from, t)) {
      this.setStatus(p, 'rejected', Reason.BAD_SIGNATURE, 'transfer signature does not verify');
      return;
    }
    if (equal(t.from, t.to)) {
      this.setStatus(p, 'rejected', Reason.SELF_TRANSFER, 'sender and recipient are the same account');
      return;
    }
    this.active.add(p);
    this.act(p);
  }

  private create(t: Transfer, id: Bytes, idHex: string): Pending {
    const p: Pending = {
      transfer: t, id, idHex, status: 'pending', phase: 'voting', votes: new Map(), rejects: new Map(), receipts: new Map(),
      times: { pending: this.ctx.now() }, tries: 0, nextTry: 0, conflictReported: false,
    };
    this.views.add(p);
    this.ctx.emit({ type: 'status', transferId: id, status: 'pending' });
    return p;
  }

  /**
   * A watcher's take-over (completion.ts): drive a transfer this gateway may never have
   * seen, from its certificate when the watcher holds one. Null: already in hand here.
   */
  takeOver(t: Transfer, cert: Certificate | null): 'voting' | 'crediting' | null {
    const id = transferId(t);
    const idHex = hexOf(id);
    let p = this.views.get(idHex);
    if (p !== undefined && (this.active.has(p) || p.phase === 'done')) return null;
    if (cert === null || (p !== undefined && p.phase !== 'voting')) {
      this.submit(t);
      return p === undefined || p.phase === 'voting' ? 'voting' : 'crediting';
    }
    p ??= this.create(t, id, idHex);
    p.certificate = cert;
    p.phase = 'crediting';
    this.setStatus(p, 'final');
    p.tries = 0;
    this.active.add(p);
    this.act(p);
    return 'crediting';
  }

  /** Sends what the transfer's phase needs, to whoever has not answered yet. */
  private act(p: Pending): void {
    const ctx = this.ctx;
    p.tries++;
    p.nextTry = ctx.now() + ctx.options.retryMs;
    const ring = ctx.ring;
    const t = p.transfer;
    if (p.phase === 'voting') {
      const have = p.votes.get(ctx.epoch);
      for (const c of ring.custodians(t.from)) {
        if (have?.has(hexOf(c))) continue;
        ctx.sendTo(c, { type: 'vote-request', transfer: t });
      }
    } else if (p.phase === 'crediting') {
      const cert = p.certificate!;
      if (p.refreshing || !ctx.isFresh(cert.votes[0]?.epoch ?? -1)) {
        p.refreshing = true;
        const have = p.votes.get(ctx.epoch);
        for (const c of ring.custodians(t.from)) if (!have?.has(hexOf(c))) ctx.sendTo(c, { type: 'vote-request', transfer: t });
        // Meanwhile a creditor that already applied the credit (by anti-entropy, or before a
        // take-over) answers its receipt again without the freshness test (§7 rule 3): at
        // k = q a sender's custodian gone for good can leave the refresh out of reach.
        if (p.tries > 1) for (const c of ring.custodians(t.to)) if (!p.receipts.has(hexOf(c))) ctx.sendTo(c, { type: 'credit-request', certificate: cert });
        return;
      }
      const creditors = ring.custodians(t.to);
      if (p.tries === 1) {
        // A custodian of both accounts takes the credit request as `certified` too
        // (Custodian.onCreditRequest): one message instead of two.
        for (const c of ring.custodians(t.from)) if (!creditors.includes(c)) ctx.sendTo(c, { type: 'certified', certificate: cert });
      }
      for (const c of creditors) {
        if (p.receipts.has(hexOf(c))) continue;
        ctx.sendTo(c, { type: 'credit-request', certificate: cert });
      }
    } else if (p.phase === 'storing') {
      this.sendStores(p);
    }
  }

  /**
   * protocol.md §5 step 5: the bundle goes to every storage node, and the first f + 1 of
   * them are asked to acknowledge it (`ack`); each retry asks the unanswered again and one
   * more, so a dead or silent storage node is passed over. Stored once f + 1 distinct
   * storage nodes, each sent the bundle here, answered `stored`: at least one is honest,
   * and with crashes alone the bundle outlives the loss of any one of them.
   */
  private sendStores(p: Pending): void {
    const ctx = this.ctx;
    const bundle = p.bundle!;
    const storage = ctx.ring.storage(p.id);
    const asked = (p.asked ??= new Set());
    const acked = (p.acked ??= new Set());
    // A gateway that is itself one of the bundle's storage nodes stores its copy now,
    // durably before the stores go out, and counts it: one message and one answer fewer.
    if (p.tries === 1 && storage.some((n) => ctx.isMe(n)) && this.bundles.store(bundle, undefined)) acked.add(ctx.idHex);
    if (acked.size >= this.storedNeed(p)) {
      this.finishStored(p);
      return;
    }
    let ask = this.storedNeed(p) - acked.size + p.tries - 1;
    for (const n of storage) {
      if (ctx.isMe(n)) continue;
      const h = hexOf(n);
      if (acked.has(h)) continue;
      if (ask > 0) {
        ask--;
        asked.add(h);
        ctx.sendTo(n, { type: 'store', bundle, ack: true });
      } else if (p.tries === 1) {
        // The other storage nodes get their copies once, unacknowledged: anti-entropy repairs a lost one.
        ctx.sendTo(n, { type: 'store', bundle, ack: false });
      }
    }
  }

  /** f + 1 storage nodes (protocol.md §7, Handoff), or all of them in a ring too small for that. */
  private storedNeed(p: Pending): number {
    const ring = this.ctx.ring;
    return Math.min(threshold(ring), ring.storage(p.id).length);
  }

  /**
   * A new epoch: the custodians of `from` may have changed before every old one heard
   * `certified`. The new ones get the certificates of transfers still in hand, so a
   * merge there keeps the certified lock and never votes a rival (protocol.md §7).
   */
  onEpochChange(): void {
    const ctx = this.ctx;
    const ring = ctx.ring;
    for (const p of this.active) {
      if (p.certificate === undefined) continue;
      for (const c of ring.custodians(p.transfer.from)) ctx.sendTo(c, { type: 'certified', certificate: p.certificate });
    }
  }

  tick(now: number): void {
    if (this.rivals.size > 0) this.rivals.tick(now);
    if (this.active.size === 0) return;
    const ctx = this.ctx;
    const max = ctx.options.maxRetries;
    for (const p of this.active) {
      if (p.nextTry > now) continue;
      if (p.tries >= max && p.phase === 'voting') {
        // Stays pending; a resubmit resumes it. Without a certificate it costs its
        // sender nothing: bounded with the rejected.
        this.active.delete(p);
        this.views.park(p, this.active);
        continue;
      }
      this.act(p);
      // Certified (final or credited): the debit is final and the wallet was told so;
      // the gateway keeps on, each retry past maxRetries twice as late as the last (up to
      // MAX_BACKOFF intervals), until the fault that holds it heals. Dropped here, it was
      // left to one keeper's soft watch (protocol.md §5a), lost if that keeper restarts.
      if (p.tries > max) p.nextTry = now + ctx.options.retryMs * 2 ** Math.min(p.tries - max, MAX_BACKOFF_DOUBLINGS);
    }
  }

  /**
   * The earliest time tick() has work: a rival whose bundle has arrived is compared
   * at once; otherwise the earliest retry of a rival search or an active transfer.
   */
  nextWakeupAt(): number {
    let at = this.rivals.size > 0 ? this.rivals.nextWakeupAt() : Infinity;
    for (const p of this.active) if (p.nextTry < at) at = p.nextTry;
    return at;
  }

  onVote(fromHex: string, v: Vote): void {
    const p = this.views.get(hexOf(v.transferId));
    if (!p || !(p.phase === 'voting' || (p.phase === 'crediting' && p.refreshing === true))) return;
    const ctx = this.ctx;
    const t = p.transfer;
    if (!equal(v.from, t.from) || v.seq !== t.seq) return;
    // Only votes of a fresh epoch make a new certificate (protocol.md §7, Vote freshness).
    if (!ctx.isFresh(v.epoch)) return;
    const ring = ctx.ringOf(v.epoch);
    const voter = hexOf(v.voter);
    if (!ring || voter !== fromHex || ctx.voids.has(voter) || !ring.isCustodian(v.voter, t.from)) return;
    if (!verify(VoteCodec, ctx.network, ctx.scheme, v.voter, v)) return;
    let set = p.votes.get(v.epoch);
    if (!set) p.votes.set(v.epoch, (set = new Map()));
    set.set(voter, v);
    p.rejects.delete(voter);
    // Rejected before f + 1 votes came in: an honest custodian holds the lock after all (see onReject).
    if (p.status === 'rejected' && this.voters(p) >= threshold(ctx.ring)) this.resume(p);
    if (set.size < ring.q) return;
    if (p.phase === 'crediting') {
      // A refreshed certificate for a debit already final: same transfer, votes of this epoch.
      p.certificate = { transfer: t, votes: [...set.values()].sort((a, b) => compare(a.voter, b.voter)) };
      p.refreshing = false;
      this.act(p);
      return;
    }
    // protocol.md §5 step 3: q votes of one epoch make the certificate; the debit is final.
    // In canonical order (votes by voter), as the certificate decodes: the object this node keeps is the one its peers see.
    p.certificate = { transfer: t, votes: [...set.values()].sort((a, b) => compare(a.voter, b.voter)) };
    p.phase = 'crediting';
    this.views.unpark(p.idHex);
    this.setStatus(p, 'final');
    ctx.emit({ type: 'certified', certificate: p.certificate });
    p.tries = 0;
    this.active.add(p);
    this.act(p);
  }

  onReject(fromHex: string, id: Bytes, code: ReasonCode, detail: string): void {
    const p = this.views.get(hexOf(id));
    if (!p || p.phase !== 'voting') return;
    const ring = this.ctx.ring;
    if (!ring.custodians(p.transfer.from).some((c) => hexOf(c) === fromHex)) return;
    p.rejects.set(fromHex, code);
    if (!FINAL_REASONS.has(code)) return;
    // Out of reach once more than k - q custodians refuse for lasting reasons.
    const counts = new Map<ReasonCode, number>();
    let lasting = 0;
    for (const c of p.rejects.values()) {
      if (!FINAL_REASONS.has(c)) continue;
      lasting++;
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    if (lasting <= ring.k - ring.q) return;
    // f + 1 votes in hand: an honest custodian holds the lock, which is never released
    // (protocol.md §5a), so a rejection would strand its debit. The refusers lag (a credit
    // or the lock itself reaches them by anti-entropy, and then they vote): keep asking.
    if (this.voters(p) >= threshold(ring)) return;
    let best: ReasonCode = code;
    for (const [c, n] of counts) if (n > (counts.get(best) ?? 0)) best = c;
    this.setStatus(p, 'rejected', best, detail);
    this.active.delete(p);
    this.onFinished(p.transfer, p.id, false, null);
  }

  /** A rejected transfer asked for again, from where it stands (a resubmit does the same). */
  private resume(p: Pending): void {
    p.rejects.clear();
    delete p.reason;
    delete p.detail;
    this.setStatus(p, 'pending');
    this.views.unpark(p.idHex);
    p.tries = 0;
    p.nextTry = 0; // asked again on the next tick, unless this vote completes the certificate
    this.active.add(p);
  }

  /** Distinct custodians whose votes for the transfer are in hand, of any epoch. */
  private voters(p: Pending): number {
    if (p.votes.size === 1) for (const set of p.votes.values()) return set.size;
    const all = new Set<string>();
    for (const set of p.votes.values()) for (const v of set.keys()) all.add(v);
    return all.size;
  }

  /** A custodian holds (from, seq) locked to another transfer: a double spend attempt (protocol.md §5 step 2). */
  onConflict(fromHex: string, id: Bytes, locked: Transfer): void {
    const p = this.views.get(hexOf(id));
    if (!p) return;
    const ctx = this.ctx;
    const t = p.transfer;
    if (!equal(locked.from, t.from) || locked.seq !== t.seq || equal(transferId(locked), p.id)) return;
    // Only a custodian of the sender holds its locks: anyone else's word is dropped.
    if (!this.inGroup(fromHex, (r) => r.custodians(t.from))) return;
    if (!verify(TransferCodec, ctx.network, ctx.scheme, locked.from, locked)) return;
    if (!p.conflictReported) {
      p.conflictReported = true;
      const notice = sign(NoticeCodec, ctx.network, ctx.signer, { evidence: doubleSpendEvidence(t, locked), reporter: ctx.id });
      ctx.sendMint({ type: 'notice', notice });
      ctx.emit({ type: 'notice-sent', notice });
    }
    if (p.phase === 'voting') {
      this.setStatus(p, 'conflict', Reason.CONFLICT, 'the sender signed another transfer for this seq');
      this.active.delete(p);
      this.onFinished(p.transfer, p.id, false, null);
      this.rivals.start(p, transferId(locked));
    }
  }

  onReceipt(fromHex: string, x: Receipt): void {
    const p = this.views.get(hexOf(x.transferId));
    if (!p || p.phase !== 'crediting') return;
    const ctx = this.ctx;
    const t = p.transfer;
    if (!equal(x.to, t.to) || x.amount !== t.amount) return;
    const custodian = hexOf(x.custodian);
    const ring = ctx.ringOf(x.epoch);
    if (!ring || custodian !== fromHex || !ring.isCustodian(x.custodian, t.to)) return;
    if (!verify(ReceiptCodec, ctx.network, ctx.scheme, x.custodian, x)) return;
    p.receipts.set(custodian, x);
    if (p.receipts.size < ring.q) return;
    p.bundle = { certificate: p.certificate!, receipts: [...p.receipts.values()].sort((a, b) => compare(a.custodian, b.custodian)) };
    p.phase = 'storing';
    this.setStatus(p, 'credited');
    p.tries = 0;
    this.active.add(p);
    this.act(p);
  }

  /** protocol.md §5 step 5: a storage node's acknowledgement; counted only from one this gateway asked. */
  onStored(fromHex: string, id: Bytes): void {
    const p = this.views.get(hexOf(id));
    if (!p || p.phase !== 'storing' || p.asked === undefined || p.acked === undefined) return;
    // Only a storage node this gateway sent the bundle to vouches for its store: another
    // node's word (or a forwarded copy's) could end the transfer with the bundle nowhere.
    if (!p.asked.has(fromHex) || !this.inGroup(fromHex, (r) => r.storage(p.id))) return;
    p.acked.add(fromHex);
    if (p.acked.size >= this.storedNeed(p)) this.finishStored(p);
  }

  private finishStored(p: Pending): void {
    p.phase = 'done';
    this.setStatus(p, 'stored');
    this.active.delete(p);
    this.onFinished(p.transfer, p.id, true, p.certificate ?? null);
    // Votes and receipts live on in the bundle; the working maps are dropped.
    p.votes.clear();
    p.receipts.clear();
    p.rejects.clear();
    p.asked = undefined;
    p.acked = undefined;
    this.views.finish(p);
  }

  /**
   * Whether `fromHex` is in the group `of` picks, in the current epoch or the one before
   * (an answer to a request sent just before an epoch change).
   */
  private inGroup(fromHex: string, of: (ring: Ring) => readonly Bytes[]): boolean {
    const ctx = this.ctx;
    for (const n of [ctx.epoch, ctx.epoch - 1]) {
      const ring = ctx.ringOf(n);
      if (ring !== undefined && of(ring).some((c) => hexOf(c) === fromHex)) return true;
    }
    return false;
  }

  /** For tests: views held (active, finished and parked). */
  get viewCount(): number {
    return this.views.size;
  }

  /** For tests and the simulator: conflicts whose rival certificate is still sought. */
  get rivalSearches(): number {
    return this.rivals.size;
  }

  /** For tests and the simulator: transfers still being worked on. */
  get activeCount(): number {
    return this.active.size;
  }
}
