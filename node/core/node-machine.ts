// A ringmint node as a deterministic state machine: custodian, gateway and storage
// node at once (protocol.md §1), plus handoff and anti-entropy. Drivers (the daemon, the
// simulator) feed it submits, messages and ticks, persist each step's records
// before sending its messages, and rebuild it from those records after a crash.
import { equal, toHex, type Bytes } from '../../protocol/bytes.ts';
import { Rejection } from '../../protocol/errors.ts';
import type { Message } from '../../protocol/messages.ts';
import {
  AlertCodec, RepudiationCodec, TransferCodec, VoteCodec, decodeWith, encodeWith, noticeHash, readAlert, readEpoch, transferId, verify, writeAlert,
  Limits, type Alert, type Bundle, type Certificate, type EpochRecord, type Evidence, type Transfer,
} from '../../protocol/objects.ts';
import { DEFAULT_NODE_OPTIONS, type AccountHistory, type CompletionStats, type HeldHistory, type AccountView, type NodeEvent, type NodeInit, type RestorableNodeMachine, type TransferView } from './api.ts';
import type { Address, Output, RecordSource } from '../../protocol/ports.ts';
import { NodeContext, hexOf } from './node-context.ts';
import { Custodian } from './custodian.ts';
import { Keys, parseKey, Prefix, restoreOrder, RESTORED_KEY } from './record-keys.ts';
import { assert } from '../../protocol/assert.ts';
import { replicaHistory } from './history.ts';
import { Gateway } from './gateway.ts';
import { Storage } from './storage.ts';
import { Handoff } from './handoff.ts';
import { AntiEntropy } from './anti-entropy.ts';
import { Completion } from './completion.ts';
import { MAX_CREDITS_PER_STATE } from '../../protocol/handoff-codec.ts';
import { CatchUp } from './catch-up.ts';
import { checkBundle } from '../../protocol/certificate.ts';

export class NodeMachine implements RestorableNodeMachine {
  readonly id: Bytes;
  private readonly ctx: NodeContext;
  private readonly custodian: Custodian;
  private readonly gateway: Gateway;
  private readonly storage: Storage;
  private readonly handoff: Handoff;
  private readonly antiEntropy: AntiEntropy;
  private readonly completion: Completion;
  private readonly alertList: Alert[] = [];
  private readonly alertSeqs = new Set<number>();
  private readonly catchUp: CatchUp;

  constructor(init: NodeInit) {
    const options = { ...DEFAULT_NODE_OPTIONS, ...(init.options ?? {}) };
    this.ctx = new NodeContext(init.genesis, init.signer, init.scheme, init.clock, init.random, options, init.records);
    this.id = this.ctx.id;
    this.custodian = new Custodian(this.ctx);
    this.storage = new Storage(this.ctx);
    this.gateway = new Gateway(this.ctx, this.storage);
    this.handoff = new Handoff(this.ctx, this.custodian);
    this.handoff.proofs.bundleOf = (id) => this.storage.get(id);
    this.antiEntropy = new AntiEntropy(this.ctx, this.custodian, this.handoff, this.storage);
    const completion = (this.completion = new Completion(this.ctx, {
      hasBundle: (id) => this.storage.has(id),
      takeOver: (t, cert) => this.gateway.takeOver(t, cert),
    }));
    this.custodian.onVoted = (t, id, asker) => completion.observe(t, asker, null, id);
    this.gateway.onFinished = (t, id, stored, cert) => completion.tellFinished(t, id, stored, cert);
    this.storage.onStored = (id) => completion.finishedHere(id);
    this.catchUp = new CatchUp(this.ctx);
    if (init.restore) this.restore(init.restore);
  }

  // ------------------------------------------------------------ steps

  private begin(): Output<NodeEvent> {
    return this.ctx.step.begin();
  }

  submit(transfer: Transfer): Output<NodeEvent> {
    const out = this.begin();
    try {
      this.gateway.submit(transfer);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
    }
    return out;
  }

  receive(from: Address, msg: Message): Output<NodeEvent> {
    const out = this.begin();
    try {
      this.dispatch(from, msg);
    } catch (e) {
      // Bad input (a field the codec refuses, an unknown epoch) is dropped, never a crash.
      if (!(e instanceof Rejection)) throw e;
    }
    return out;
  }

  tick(): Output<NodeEvent> {
    const out = this.begin();
    const now = this.ctx.now();
    this.gateway.tick(now);
    this.antiEntropy.tick(now);
    this.completion.tick(now);
    this.catchUp.tick(now);
    return out;
  }

  /** The earliest time tick() has work: gateway retries and rival searches, the next anti-entropy round, completion's checks. */
  nextWakeupAt(): number {
    return Math.min(this.gateway.nextWakeupAt(), this.antiEntropy.nextRoundAt, this.completion.nextWakeupAt(), this.catchUp.nextWakeupAt());
  }

  private dispatch(from: Address, msg: Message): void {
    const peer = 'node' in from ? from.node : undefined;
    switch (msg.type) {
      case 'vote-request': return this.custodian.onVoteRequest(from, msg.transfer);
      case 'certified':
        this.custodian.onCertified(msg.certificate);
        return this.watchCertified(peer, msg.certificate);
      case 'credit-request':
        this.custodian.onCreditRequest(from, msg.certificate);
        return this.watchCertified(peer, msg.certificate);
      case 'done': if (peer) this.completion.onDone(peer, msg.transferIds); return;
      case 'submit': return this.gateway.submit(msg.transfer);
      case 'vote': if (peer) this.gateway.onVote(peer, msg.vote); return;
      case 'reject': if (peer) this.gateway.onReject(peer, msg.transferId, msg.code, msg.detail); return;
      case 'conflict': if (peer) this.gateway.onConflict(peer, msg.transferId, msg.locked); return;
      case 'receipt': if (peer) this.gateway.onReceipt(peer, msg.receipt); return;
      case 'stored': if (peer) this.gateway.onStored(peer, msg.transferId); return;
      case 'store': return this.storage.onStore(peer, msg.bundle, msg.ack);
      case 'lookup': if (peer) this.storage.onLookup(peer, msg.transferId); return;
      case 'lookup-reply':
        if (!peer) return;
        this.completion.onLookupReply(msg.transferId, msg.bundle);
        this.handoff.onLookupReply(msg.transferId, msg.bundle);
        return this.storage.onLookupReply(peer, msg.transferId, msg.bundle);
      case 'account-pull': if (peer) this.handoff.onPull(peer, msg.account, msg.epoch); return;
      case 'account-state': if (peer) this.handoff.onState(peer, msg.state, msg.epoch); return;
      case 'digest': if (peer) this.antiEntropy.onDigest(peer, msg.digest); return;
      case 'alert': return this.onAlert(msg.alert, true);
      case 'repudiation': return void verify(RepudiationCodec, this.ctx.network, this.ctx.scheme, this.ctx.genesis.mintKey, msg.repudiation);
      case 'epoch': return this.onEpoch(msg.record);
      case 'epoch-request': if (peer) this.catchUp.onRequest(peer, msg.from); return;
      case 'notice':
      case 'join':
        return; // for the mint
    }
  }

  /**
   * A certificate from a gateway: of the sender's custodians that hold its lock, the
   * keeper watches it on until it is stored (protocol.md §5a).
   */
  private watchCertified(peer: string | undefined, cert: Certificate): void {
    const t = cert.transfer;
    const id = transferId(t);
    const hex = hexOf(t.from);
    const a = this.custodian.accounts.get(hex);
    if (a !== undefined && this.custodian.history.holds(a, hex, t.seq, id)) this.completion.observe(t, peer, cert, id);
  }

  /** Watches and take-overs so far (metrics). */
  completionStats(): CompletionStats {
    return this.completion.counts;
  }

  // ------------------------------------------------------------ epochs

  private onEpoch(record: EpochRecord): void {
    const ctx = this.ctx;
    if (record.epoch <= ctx.epoch) return;
    if (record.epoch > ctx.epoch + 1) {
      this.catchUp.onFuture(record);
      return;
    }
    // Every record from here to the newest held is applied in turn, each checked against
    // its predecessor; handoff runs per epoch, so custody follows the chain (protocol.md §7, Catch-up).
    for (let next: EpochRecord | undefined = record; next !== undefined; next = this.catchUp.take(ctx.epoch + 1)) {
      const prev = ctx.epoch;
      ctx.addEpoch(next, true);
      ctx.emit({ type: 'epoch', epoch: ctx.epoch });
      this.handoff.onEpochChange(prev);
      this.storage.handoff(prev);
      this.gateway.onEpochChange();
    }
    this.catchUp.settle();
  }

  epochRecord(n: number): EpochRecord | undefined {
    return this.ctx.recordOf(n);
  }

  /** The newest epoch this node knows exists (its own, or a later one it is fetching). */
  knownEpochHead(): number {
    return this.catchUp.head;
  }

  // ------------------------------------------------------------ alerts (protocol.md §6)

  private onAlert(alert: Alert, persist: boolean): void {
    const ctx = this.ctx;
    if (this.alertSeqs.has(alert.alertSeq)) return;
    if (!verify(AlertCodec, ctx.network, ctx.scheme, ctx.genesis.mintKey, alert)) return;
    // Every node re-verifies the evidence itself: the mint is trusted for membership, not for guilt.
    if (!this.evidenceHolds(alert.notice.evidence)) return;
    this.alertSeqs.add(alert.alertSeq);
    this.alertList.push(alert);
    if (persist) ctx.persist(Keys.alert(alert.alertSeq), encodeWith(alert, writeAlert));
    ctx.emit({ type: 'alert', alert });
    const ev = alert.notice.evidence;
    if (ev.kind === 'double-spend') {
      const from = ev.t1.from;
      if (persist) this.custodian.freeze(from);
      else this.custodian.account(toHex(from)).frozen = true;
    } else {
      const voter = hexOf(ev.v1.voter);
      if (!ctx.voids.has(voter)) {
        ctx.voids.add(voter);
        if (persist) ctx.persist(Keys.voided(voter), new Uint8Array([1]));
      }
    }
  }

  private evidenceHolds(ev: Evidence): boolean {
    const ctx = this.ctx;
    if (ev.kind === 'double-spend') {
      const { t1, t2 } = ev;
      return equal(t1.from, t2.from) && t1.seq === t2.seq && !equal(transferId(t1), transferId(t2)) &&
        verify(TransferCodec, ctx.network, ctx.scheme, t1.from, t1) && verify(TransferCodec, ctx.network, ctx.scheme, t2.from, t2);
    }
    const { v1, v2 } = ev;
    return equal(v1.voter, v2.voter) && equal(v1.from, v2.from) && v1.seq === v2.seq && v1.epoch === v2.epoch && !equal(v1.transferId, v2.transferId) &&
      verify(VoteCodec, ctx.network, ctx.scheme, v1.voter, v1) && verify(VoteCodec, ctx.network, ctx.scheme, v2.voter, v2);
  }

  // ------------------------------------------------------------ restore (protocol.md §8)

  private restore(src: RecordSource): void {
    for (const prefix of this.restorePrefixes()) for (const [k, v] of src.entries(prefix)) this.restoreRecord(k, v);
    this.finishRestore();
  }

  /** The record prefixes a restart reads, in the order it needs them (record-keys.ts restoreOrder). */
  restorePrefixes(): readonly string[] {
    return restoreOrder(this.ctx.reader !== null).map((kind) => Prefix[kind]);
  }

  /** The `k/` records of the account being restored: their count and the newest of them. */
  private creditOrder: { hex: string; count: number; newest: Bytes[] } | null = null;
  /** A restart of a node with a history: it asks whether epochs passed while it was down. */
  private restoredAny = false;

  /**
   * One record at restart, prefixes in restorePrefixes' order and keys in order within
   * each (a driver may stream them: nothing here holds more than one account's window).
   */
  restoreRecord(key: string, value: Bytes): void {
    const ctx = this.ctx;
    this.restoredAny = true;
    const parsed = parseKey(key);
    // restorePrefixes names every prefix a driver streams: anything else is a driver bug.
    assert(parsed !== undefined && parsed.kind !== 'meta', `restore of a record of no restored kind: ${key}`);
    const f = parsed.fields;
    switch (parsed.kind) {
      case 'epoch': {
        const record = decodeWith(ctx.network, value, readEpoch, Limits.EPOCH_RECORD_BYTES);
        if (record.epoch === ctx.epoch + 1) ctx.addEpoch(record, false);
        return;
      }
      case 'voided': ctx.voids.add(f[0]!); return;
      case 'frozen': this.custodian.account(f[0]!).frozen = true; return;
      case 'snapshot': this.handoff.restoreSnapshot(f[0]!, value); return;
      case 'resync': this.handoff.restoreResync(key, key === RESTORED_KEY); return;
      case 'lock': this.custodian.restoreLock(f[0]!, value); return;
      case 'certified': this.custodian.restoreCertified(f[0]!, value); return;
      case 'pin': this.custodian.restorePin(f[0]!, value); return;
      case 'credit': this.custodian.restoreCredit(f[0]!, value); return;
      case 'creditOrder': {
        const hex = f[0]!;
        let o = this.creditOrder;
        if (o === null || o.hex !== hex) {
          if (o !== null) this.custodian.restoreCreditOrder(o.hex, o.count, o.newest);
          o = this.creditOrder = { hex, count: 0, newest: [] };
        }
        o.count++;
        o.newest.push(value);
        // Only the newest window is kept: cut back once twice past it.
        if (o.newest.length > 2 * MAX_CREDITS_PER_STATE) o.newest = o.newest.slice(-MAX_CREDITS_PER_STATE);
        return;
      }
      case 'bundle': this.storage.restore(f[0]!, value); return;
      case 'bundleOrder': this.storage.restoreOrder(parseInt(f[0]!, 16), value); return;
      case 'alert':
        ctx.step.begin();
        this.onAlert(decodeWith(ctx.network, value, readAlert), false);
        ctx.step.begin();
        return;
    }
  }

  /** After the last restored record. */
  finishRestore(): void {
    const o = this.creditOrder;
    if (o !== null) this.custodian.restoreCreditOrder(o.hex, o.count, o.newest);
    this.creditOrder = null;
    // Watches are not records (protocol.md §5a, Restarts).
    for (const a of this.custodian.accounts.values()) this.completion.restored(a);
    this.ctx.step.begin();
    if (this.restoredAny) this.catchUp.restarted();
  }

  // ------------------------------------------------------------ queries

  /** Optional driver hook: ask the storage nodes for a bundle this node lacks; it lands in bundle(). */
  lookup(transferId_: Bytes): Output<NodeEvent> {
    const out = this.begin();
    this.storage.lookup(transferId_);
    return out;
  }

  /** Whether a bundle from outside holds (votes, receipts, against this node's epochs): for answers a driver takes itself. */
  checkBundle(b: Bundle): boolean {
    try {
      checkBundle(b, this.ctx.check);
      return true;
    } catch (e) {
      if (e instanceof Rejection) return false;
      throw e;
    }
  }

  transfer(id: Bytes): TransferView | undefined {
    const v = this.gateway.view(id);
    if (v) return v;
    const b = this.storage.get(id);
    if (!b) return undefined;
    return { transferId: id, status: 'stored', transfer: b.certificate.transfer, certificate: b.certificate, bundle: b, times: {} };
  }

  account(account: Bytes): AccountView | undefined {
    return this.custodian.view(account);
  }

  history(account: Bytes): AccountHistory | undefined {
    return replicaHistory(this.custodian, account, this.custodian.view(account)?.synced ?? false);
  }

  bundle(id: Bytes): Bundle | undefined {
    return this.storage.get(id);
  }

  /** Accounts this node is pulling from their custodians (handoff, or re-sync after a restore from a backup). */
  syncing(): number {
    return this.handoff.syncing();
  }

  /** Whether this node was restored from a backup (it re-syncs each account before voting on it). */
  get restored(): boolean {
    return this.handoff.restored;
  }

  held(): HeldHistory {
    let locks = 0;
    let credits = 0;
    for (const a of this.custodian.accounts.values()) {
      for (const t of a.locks) if (t !== undefined) locks++;
      credits += a.credits.length;
    }
    return { accounts: this.custodian.accounts.size, locks, credits, bundles: this.storage.held, reportedCredits: this.handoff.reportedCredits() };
  }

  alerts(): readonly Alert[] {
    return this.alertList;
  }

  currentEpoch(): EpochRecord {
    return this.ctx.record;
  }

  /**
   * Sizes of what input from strangers can grow (tests flood each and check its bound):
   * gateway views, custodian accounts, epoch records held ahead, handoff lists.
   */
  sizes(): { views: number; accounts: number; futureEpochs: number; pulls: number; emptySynced: number; deferred: number; pools: number; proofs: number } {
    return { views: this.gateway.viewCount, accounts: this.custodian.accounts.size, futureEpochs: this.catchUp.held, ...this.handoff.sizes() };
  }

  /** Transfers the gateway is still working on (simulator and tests). */
  get activeTransfers(): number {
    return this.gateway.activeCount;
  }

  /** The notice hash of an alert's notice (a helper for observers). */
  static alertKey(a: Alert): string {
    return toHex(noticeHash(a.notice));
  }
}
