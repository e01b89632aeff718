// The gateway's side of protocol.md §5: gather q votes into a certificate, have the
// recipient's custodians credit it, gather q receipts into a bundle and hand it to
// the storage primary. Retries on tick; everything is idempotent by transfer id.
// Gateway state is soft: after a crash the custodians that hold the lock take the
// transfer over (completion.ts, protocol.md §5a), or the wallet resubmits, and the
// custodians answer the same votes and receipts again.
import { compare, equal, type Bytes } from '../../protocol/bytes.ts';
import { Reason, type ReasonCode } from '../../protocol/errors.ts';
import type { TransferStatus, TransferView } from './api.ts';
import {
  NoticeCodec, ReceiptCodec, TransferCodec, VoteCodec, decodeWith, doubleSpendEvidence, encodeWith, equivocationEvidence, readBundle, sign, transferId, verify, writeBundle,
  type Bundle, type Certificate, type Evidence, type Receipt, type Transfer, type Vote,
} from '../../protocol/objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import { recentEncoding } from './storage.ts';
import type { Ring } from '../../protocol/ring.ts';
import { threshold } from './handoff-pool.ts';

type Phase = 'voting' | 'crediting' | 'storing' | 'done';

type Pending = {
  readonly transfer: Transfer;
  readonly id: Bytes;
  readonly idHex: string;
  status: TransferStatus;
  phase: Phase;
  reason?: ReasonCode;
  detail?: string;
  /** Votes by epoch, then by voter hex. */
  votes: Map<number, Map<string, Vote>>;
  /** Rejections by custodian hex: a reject counts once per custodian. */
  rejects: Map<string, ReasonCode>;
  certificate?: Certificate;
  receipts: Map<string, Receipt>;
  bundle?: Bundle;
  /**
   * A stored transfer's bundle, encoded: a finished view keeps these ~1.6 KB instead of
   * the certificate and bundle objects (~9 KB with their memos), and decodes on view().
   */
  storedBundle?: Bytes;
  /**
   * Storing: the storage nodes (hex) sent the bundle with `ack`, and those of them that
   * answered `stored` (this node too, when it stores its own copy). Dropped once stored.
   */
  asked?: Set<string>;
  acked?: Set<string>;
  times: Partial<Record<TransferStatus, number>>;
  tries: number;
  nextTry: number;
  conflictReported: boolean;
  /**
   * Crediting with a certificate whose epoch no longer counts toward a new one here
   * (protocol.md §7, Vote freshness): the current custodians of the sender, which hold
   * the lock by handoff, are asked to vote the same transfer again in their epoch.
   */
  refreshing?: boolean;
};

/** Where the gateway finds a rival transfer's stored bundle (the node's storage role). */
export type BundleSource = {
  get(id: Bytes): Bundle | undefined;
  /** Whether this node stores the bundle itself. */
  has(id: Bytes): boolean;
  lookup(id: Bytes): void;
  /** Checks and stores a bundle durably (this node as one of its storage nodes). */
  store(bundle: Bundle, replyTo: string | undefined): boolean;
};

/**
 * A conflicted transfer whose rival's certificate is still sought: a custodian
 * that voted for both is an equivocator, and its two votes are the evidence (protocol.md §6).
 */
type RivalSearch = { readonly rivalId: Bytes; tries: number; nextTry: number };

/**
 * Reasons that stay true until the account changes: once more than k - q
 * custodians give one, q votes are out of reach and the transfer is rejected.
 * Others (SEQ_GAP, NOT_SYNCED, NOT_CUSTODIAN, UNKNOWN_EPOCH) pass with time.
 */
const FINAL_REASONS = new Set<ReasonCode>([
  Reason.BAD_SIGNATURE, Reason.SEQ_USED, Reason.BAD_PREV, Reason.INSUFFICIENT_FUNDS, Reason.FROZEN, Reason.SUPPLY_CAP, Reason.SELF_TRANSFER,
]);

/**
 * Finished transfers whose views a gateway keeps for GET /transfers/:id; past
 * this the oldest are forgotten (a storage node still answers for stored ones,
 * without the gateway's times). A finished view holds its transfer and its bundle
 * encoded (~3 KB; it held ~9 KB of objects before), so 16,384 of them are ~50 MB:
 * minutes of a busy gateway's transfers, far longer than a wallet polls one.
 */
export const MAX_FINISHED_VIEWS = 1 << 14;

/**
 * Views of transfers that ended without a certificate (rejected, conflict, or given up
 * while voting) that a gateway keeps, least recently touched first out. Anyone can
 * submit a forged or unfunded transfer for free, so these are bounded: a wallet reads
 * its rejection within seconds, and one evicted is answered again on resubmit.
 */
export const MAX_PARKED_VIEWS = 1 << 12;

/** A certified transfer's retries past maxRetries double in interval this many times at most (16 intervals apart then). */
export const MAX_BACKOFF_DOUBLINGS = 4;

export class Gateway {
  private readonly ctx: NodeContext;
  private readonly byId = new Map<string, Pending>();
  /** Transfers with work left, visited on tick. */
  private readonly active = new Set<Pending>();
  /** Ids of stored transfers in the order they finished (a queue with a moving head). */
  private readonly finished: string[] = [];
  private finishedHead = 0;
  private readonly bundles: BundleSource;
  private readonly rivals = new Map<Pending, RivalSearch>();
  /** A transfer reached its end here (stored, rejected or conflict): completion.ts tells its custodians. */
  onFinished: (t: Transfer, id: Bytes, stored: boolean, cert: Certificate | null) => void = () => {};
  /** Views that ended without a certificate, oldest first (an LRU of MAX_PARKED_VIEWS). */
  private readonly parked = new Map<string, Pending>();
  /** Rival searches at once; past this a new conflict is not searched (its double spend is still reported). */
  static readonly MAX_RIVAL_SEARCHES = 4096;

  constructor(ctx: NodeContext, bundles: BundleSource) {
    this.ctx = ctx;
    this.bundles = bundles;
  }

  view(id: Bytes): TransferView | undefined {
    const p = this.byId.get(hexOf(id));
    if (!p) return undefined;
    const bundle =
      p.storedBundle !== undefined ? decodeWith(this.ctx.network, p.storedBundle, readBundle)
      // Finished, and stored by this node: read back from its records (see onStored).
      : p.phase === 'done' && p.bundle === undefined ? this.bundles.get(p.id)
      : p.bundle;
    const certificate = bundle?.certificate ?? p.certificate;
    return {
      transferId: p.id,
      status: p.status,
      ...(p.reason !== undefined ? { reason: p.reason, detail: p.detail ?? '' } : {}),
      transfer: p.transfer,
      ...(certificate ? { certificate } : {}),
      ...(bundle ? { bundle } : {}),
      times: { ...p.times },
    };
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
    if (status === 'rejected' || status === 'conflict') this.park(p);
  }

  /** A view that ended without a certificate joins the bounded LRU; past its limit the oldest is forgotten. */
  private park(p: Pending): void {
    this.parked.delete(p.idHex);
    this.parked.set(p.idHex, p);
    const max = this.ctx.options.maxParkedViews ?? MAX_PARKED_VIEWS;
    while (this.parked.size > max) {
      const [oldHex, old] = this.parked.entries().next().value!;
      this.parked.delete(oldHex);
      if (this.byId.get(oldHex) === old && old.phase === 'voting' && !this.active.has(old)) this.byId.delete(oldHex);
    }
  }

  /** protocol.md §5 step 1: a wallet's signed transfer. A known one is resumed, never duplicated. */
  submit(t: Transfer): void {
    const ctx = this.ctx;
    const id = transferId(t);
    // hexOf (cached per id object) on every lookup: ids arrive as the same objects again and again.
    const idHex = hexOf(id);
    let p = this.byId.get(idHex);
    if (p && p.reason === Reason.BAD_SIGNATURE) {
      // Ids do not cover the signature: a forged copy must not shadow the genuine transfer.
      if (equal(p.transfer.sig, t.sig) || !verify(TransferCodec, ctx.network, ctx.scheme, t.from, t)) return;
      this.byId.delete(idHex);
      this.active.delete(p);
      this.parked.delete(idHex);
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
        this.parked.delete(idHex);
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
    this.byId.set(idHex, p);
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
    let p = this.byId.get(idHex);
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
    if (this.rivals.size > 0) this.searchRivals(now);
    if (this.active.size === 0) return;
    const ctx = this.ctx;
    const max = ctx.options.maxRetries;
    for (const p of this.active) {
      if (p.nextTry > now) continue;
      if (p.tries >= max && p.phase === 'voting') {
        // Stays pending; a resubmit resumes it. Without a certificate it costs its
        // sender nothing: bounded with the rejected.
        this.active.delete(p);
        this.park(p);
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
    let at = Infinity;
    for (const r of this.rivals.values()) {
      if (this.bundles.get(r.rivalId)) return this.ctx.now();
      if (r.nextTry < at) at = r.nextTry;
    }
    for (const p of this.active) if (p.nextTry < at) at = p.nextTry;
    return at;
  }

  onVote(fromHex: string, v: Vote): void {
    const p = this.byId.get(hexOf(v.transferId));
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
    this.parked.delete(p.idHex);
    this.setStatus(p, 'final');
    ctx.emit({ type: 'certified', certificate: p.certificate });
    p.tries = 0;
    this.active.add(p);
    this.act(p);
  }

  onReject(fromHex: string, id: Bytes, code: ReasonCode, detail: string): void {
    const p = this.byId.get(hexOf(id));
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
    this.parked.delete(p.idHex);
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
    const p = this.byId.get(hexOf(id));
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
      if (!this.rivals.has(p) && this.rivals.size < Gateway.MAX_RIVAL_SEARCHES) {
        this.rivals.set(p, { rivalId: transferId(locked), tries: 0, nextTry: ctx.now() });
      }
    }
  }

  /**
   * Looks up each rival's bundle until it is stored (or tries run out) and compares
   * its certificate's votes with the votes this gateway holds for its own transfer.
   */
  private searchRivals(now: number): void {
    const ctx = this.ctx;
    for (const [p, r] of this.rivals) {
      const bundle = this.bundles.get(r.rivalId);
      if (bundle) {
        for (const ev of equivocations(bundle.certificate.votes, p.votes)) {
          const notice = sign(NoticeCodec, ctx.network, ctx.signer, { evidence: ev, reporter: ctx.id });
          ctx.sendMint({ type: 'notice', notice });
          ctx.emit({ type: 'notice-sent', notice });
        }
        this.rivals.delete(p);
        continue;
      }
      if (r.nextTry > now) continue;
      if (r.tries >= ctx.options.maxRetries) {
        this.rivals.delete(p);
        continue;
      }
      r.tries++;
      r.nextTry = now + ctx.options.retryMs;
      this.bundles.lookup(r.rivalId);
    }
  }

  onReceipt(fromHex: string, x: Receipt): void {
    const p = this.byId.get(hexOf(x.transferId));
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
    const p = this.byId.get(hexOf(id));
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
    const max = this.ctx.options.maxFinishedViews ?? MAX_FINISHED_VIEWS;
    if (max === 0) {
      this.byId.delete(p.idHex);
      return;
    }
    const b = p.bundle!;
    // A node that reads its records back and stores this bundle itself keeps no copy here.
    if (this.ctx.reader === null || !this.bundles.has(p.id)) p.storedBundle = recentEncoding(b, this.ctx.network, () => encodeWith(b, writeBundle));
    p.bundle = undefined;
    p.certificate = undefined;
    this.finished.push(p.idHex);
    while (this.finished.length - this.finishedHead > max) {
      const old = this.finished[this.finishedHead++]!;
      const q = this.byId.get(old);
      if (q && q.phase === 'done') this.byId.delete(old);
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished.splice(0, this.finishedHead);
      this.finishedHead = 0;
    }
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
    return this.byId.size;
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

/** Pairs of votes by one voter for the same (from, seq, epoch) and different transfers. */
export function equivocations(rivalVotes: readonly Vote[], ownVotes: ReadonlyMap<number, ReadonlyMap<string, Vote>>): Evidence[] {
  const found: Evidence[] = [];
  for (const v of rivalVotes) {
    const mine = ownVotes.get(v.epoch)?.get(hexOf(v.voter));
    if (mine && mine.seq === v.seq && equal(mine.from, v.from) && !equal(mine.transferId, v.transferId)) {
      found.push(equivocationEvidence(mine, v));
    }
  }
  return found;
}
