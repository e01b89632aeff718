// The mint as a pure state machine (protocol.md §4, 6, 7): issuance, notice verification
// and relay, reputation, admission and epochs. Drivers (mint/daemon, the simulator)
// feed it messages and ticks and carry out its Output; it reads time only from
// the Clock, and every state change goes through one durable log (mint-log.ts),
// applied the same way live and on restore.
import { equal, fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import { assert } from '../../protocol/assert.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import type { Message } from '../../protocol/messages.ts';
import {
  AlertCodec, Limits, NoticeCodec, RepudiationCodec, sign, verify,
  type Alert, type Certificate, type EpochRecord, type Evidence, type JoinRequest, type Notice, type Transfer,
} from '../../protocol/objects.ts';
import { StepOutput, type Address, type Clock, type Output } from '../../protocol/ports.ts';
import type { SignatureScheme, Signer } from '../../protocol/signature.ts';
import { DEFAULT_MINT_OPTIONS, type MintEvent, type MintInit, type MintMachineApi, type MintOptions, type ReputationEvent } from './api.ts';
import { Admission, joinCapFor } from './admission.ts';
import { EpochChain } from './epochs.ts';
import { Issuer, gatewayFor } from './issuance.ts';
import { entryRecord, readLog, type LogEntry } from './mint-log.ts';
import { NoticeDesk, checkEvidence, equivocator, noticeHashIn, offenceKey, type NoticeLine } from './notices.ts';
import { ReputationBook } from './reputation.ts';
import { Redrive } from './redrive.ts';
import { AlertEcho } from './alert-echo.ts';
import { checkBundle, checkCertificate } from '../../protocol/certificate.ts';
import { transferId, type Bundle } from '../../protocol/objects.ts';
import { Liveness } from './liveness.ts';
import { ReachabilityCodec, type ReachabilityReport } from '../../protocol/reachability.ts';

const BROADCAST: Address = { broadcast: true };
/** Epoch records one catch-up answer carries, and answers per second (node/core/catch-up.ts asks). */
export const EPOCHS_PER_ANSWER = 16;
export const EPOCH_ANSWERS_PER_SECOND = 256;
const EMPTY_MEMO = new Uint8Array(0);

export class MintMachine implements MintMachineApi {
  readonly genesis: Genesis;
  readonly network: string;
  readonly options: MintOptions;
  /** The current step's output (protocol/ports.ts StepOutput): each public step begins one, every part writes into it. */
  private readonly step = new StepOutput<MintEvent>();
  private readonly signer: Signer;
  private readonly scheme: SignatureScheme;
  private readonly clock: Clock;
  private readonly issuer: Issuer;
  private readonly desk: NoticeDesk;
  private readonly book: ReputationBook;
  private readonly admission: Admission;
  private readonly chain: EpochChain;
  private readonly redrive = new Redrive();
  /** Alerts broadcast again for nodes that missed the first gossip (alert-echo.ts). */
  private readonly echo = new AlertEcho();
  private readonly liveness: Liveness;
  /** Liveness judges members from the first tick on, and at most once a second. */
  private livenessFrom: number | null = null;
  private nextLivenessScan = 0;
  /** Number of the last log entry written. */
  private logSeq = 0;

  constructor(init: MintInit) {
    const g = init.genesis;
    if (!equal(init.signer.publicKey, g.mintKey)) throw new Rejection(Reason.NOT_MINT, 'this key is not the mint key of the genesis');
    this.genesis = g;
    this.network = g.network;
    const given = Object.fromEntries(Object.entries(init.options ?? {}).filter(([, v]) => v !== undefined)) as Partial<MintOptions>;
    this.options = { ...DEFAULT_MINT_OPTIONS, maxJoinsPerEpoch: joinCapFor(g.epoch0.q), maxEvictionsPerEpoch: Math.max(1, g.epoch0.k - g.epoch0.q), ...given };
    this.liveness = new Liveness(this.options);
    this.signer = init.signer;
    this.scheme = init.scheme;
    this.clock = init.clock;
    this.issuer = new Issuer(g.network, init.signer, g.supplyCap);
    this.desk = new NoticeDesk(g.network);
    this.book = new ReputationBook(g.network, init.signer, g.reputation);
    this.admission = new Admission(g.admission, this.options.maxJoinsPerEpoch, this.options.epochIntervalMs);
    this.chain = new EpochChain(g.epoch0);
    if (init.restore) {
      for (const entry of readLog(g.network, init.restore)) {
        this.apply(entry);
        this.logSeq++;
      }
    }
  }

  get id(): Bytes {
    return this.genesis.mintKey;
  }

  // ------------------------------------------------------------ log

  /** Writes an entry to this step's persist batch and applies it: one path for live and restore. */
  private record(entry: LogEntry): void {
    const out = this.step.out;
    // Encode first: an entry that cannot be encoded must change neither the log nor the state.
    const rec = entryRecord(this.logSeq + 1, entry);
    assert(rec.value !== null && rec.value.length > 0, `mint log entry ${this.logSeq + 1} (${entry.kind}) encoded to nothing`);
    this.logSeq++;
    out.persist.push(rec);
    this.apply(entry);
  }

  private apply(entry: LogEntry): void {
    switch (entry.kind) {
      case 'issued': return this.issuer.apply(entry.transfer);
      case 'notice': return this.desk.apply(entry, entry.verdict === 'repudiated' ? undefined : offenceKey(entry.notice.evidence));
      case 'reputation': return this.book.apply(entry.event);
      case 'epoch':
        this.chain.apply(entry.record);
        return this.admission.clear();
      case 'admitted': return this.admission.apply(entry.node);
      case 'settled': return this.redrive.applySettled(entry.seq);
    }
  }

  private reputationChange(event: ReputationEvent | undefined): void {
    const out = this.step.out;
    if (!event) return;
    this.record({ kind: 'reputation', event });
    out.events.push({ type: 'reputation', event });
  }

  // ------------------------------------------------------------ issuance

  issue(to: Bytes, amount: bigint, memo: Bytes = EMPTY_MEMO): { transfer: Transfer; output: Output<MintEvent> } {
    const transfer = this.issuer.next(to, amount, memo);
    const out = this.step.begin();
    // The seq is durable before the transfer leaves: a restarted mint never signs a second transfer for it.
    this.record({ kind: 'issued', transfer });
    out.send.push({ to: { node: gatewayFor(this.chain.current, transfer.seq) }, msg: { type: 'submit', transfer } });
    out.events.push({ type: 'issued', transfer });
    if (this.options.redriveMs > 0) this.redrive.issued(transfer.seq, this.clock.now(), this.options.redriveMs);
    return { transfer, output: out };
  }

  /**
   * A storage node's bundle of an issuance (the daemon looks them up): once it checks,
   * the issuance is settled and never re-driven again (protocol.md §5a). A bundle that
   * does not check, or names no issuance of ours, changes nothing.
   */
  settle(bundle: Bundle): Output<MintEvent> {
    const out = this.step.begin();
    const t = bundle.certificate.transfer;
    const mine = this.issuer.at(t.seq);
    if (mine === undefined || !equal(t.from, this.genesis.mintKey) || !equal(transferId(mine), transferId(t))) return out;
    if (!this.redrive.isPending(t.seq, this.issuer.lastSeq)) return out;
    try {
      checkBundle(bundle, { network: this.network, verifier: this.scheme, ringOf: (n) => this.chain.ring(n) });
    } catch {
      return out;
    }
    const upTo = this.redrive.settle(t.seq, this.issuer.lastSeq);
    if (upTo !== null) {
      out.persist.push(entryRecord(++this.logSeq, { kind: 'settled', seq: upTo }));
    }
    return out;
  }

  /** Issuances not yet seen stored, oldest first, at most `limit` (the daemon looks their bundles up). */
  pendingIssuances(limit: number): Transfer[] {
    return this.redrive.pending(this.issuer.lastSeq, limit).map((s) => this.issuer.at(s)!);
  }

  /** How many issuances wait to be seen stored. */
  pendingIssuanceCount(): number {
    return this.redrive.pendingCount(this.issuer.lastSeq);
  }

  /** Re-drives the pending issuances whose time has come, each to its next gateway. */
  private redriveDue(now: number): void {
    const out = this.step.out;
    for (const { seq, attempt } of this.redrive.due(now, this.issuer.lastSeq, this.options.redriveMs)) {
      const transfer = this.issuer.at(seq)!;
      out.send.push({ to: { node: gatewayFor(this.chain.current, seq, attempt) }, msg: { type: 'submit', transfer } });
      out.events.push({ type: 'redriven', transfer, attempt });
    }
  }

  /**
   * Hands an issued transfer to another gateway (attempt n picks the n-th next
   * member): for a driver whose gateway did not answer. Idempotent by transfer id.
   */
  resubmit(seq: number, attempt = 1): Output<MintEvent> {
    const out = this.step.begin();
    const transfer = this.issuer.at(seq);
    if (transfer) out.send.push({ to: { node: gatewayFor(this.chain.current, seq, attempt) }, msg: { type: 'submit', transfer } });
    return out;
  }

  // ------------------------------------------------------------ messages

  receive(from: Address, msg: Message): Output<MintEvent> {
    const out = this.step.begin();
    try {
      // Notices are signed; a join must also come from the key it names (admission.ts).
      if (msg.type === 'notice') this.onNotice(msg.notice, msg.proof);
      else if (msg.type === 'join') this.onJoin(msg.join, 'node' in from ? from.node : undefined);
      else if (msg.type === 'epoch-request' && 'node' in from) this.onEpochRequest(from.node, msg.from);
      else if (msg.type === 'reachability' && 'node' in from) this.onReachability(from.node, msg.report);
    } catch (e) {
      // Bad input never crashes the mint: a malformed object is simply not acted on. What was
      // already recorded stays in `out`, so the persisted log always matches the state.
      // Anything else is a bug and goes to the driver.
      if (!(e instanceof Rejection)) throw e;
    }
    return out;
  }

  /**
   * Whether a notice may earn its reporter anything (protocol.md §6, Rewards): an
   * equivocator is a member and loses its place; a double spender must be shown to have
   * had something to lose, by a certificate of a transfer from or to its account.
   * Throwaway keys that never held funds have none: farming them earns nothing.
   */
  private rewardable(evidence: Evidence, proof: Certificate | undefined, reporter: string, epoch: number): boolean {
    if (!this.book.mayReward(reporter, epoch)) return false;
    if (evidence.kind === 'equivocation') return true;
    if (proof === undefined) return false;
    const account = evidence.t1.from;
    if (!equal(proof.transfer.from, account) && !equal(proof.transfer.to, account)) return false;
    try {
      checkCertificate(proof, { network: this.network, verifier: this.scheme, ringOf: (n) => this.chain.ring(n) });
      return true;
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      return false;
    }
  }

  private onNotice(notice: Notice, proof?: Certificate): Output<MintEvent> {
    const out = this.step.out;
    const reporter = toHex(notice.reporter);
    const at = this.clock.now();
    // Graylisted: dropped unread, so a discredited node costs the mint no verification.
    if (this.book.isGraylisted(reporter)) {
      this.desk.noteGraylisted(notice, at);
      return out;
    }
    // Only members report; a notice from anyone else cannot be scored, so it is not judged.
    if (!this.chain.currentRing().isMember(notice.reporter)) return out;
    if (!verify(NoticeCodec, this.network, this.scheme, notice.reporter, notice)) return out;
    const hash = noticeHashIn(this.network, notice);
    const prior = this.desk.judged(toHex(hash));
    if (prior) return this.answerAgain(prior);

    const check = checkEvidence(this.network, this.scheme, (n) => this.chain.ring(n), notice.evidence);
    const epoch = this.chain.current.epoch;
    if (!check.ok) {
      const repudiation = sign(RepudiationCodec, this.network, this.signer, {
        noticeHash: hash,
        reason: check.why.slice(0, Limits.REASON_BYTES / 4),
        reporter: notice.reporter,
      });
      this.record({ kind: 'notice', notice, at, verdict: 'repudiated', repudiation });
      out.send.push({ to: BROADCAST, msg: { type: 'repudiation', repudiation } });
      out.events.push({ type: 'repudiation', repudiation });
      this.reputationChange(this.book.change(notice.reporter, 'invalid-notice', epoch, at));
      return out;
    }
    const existing = this.desk.alertFor(check.key);
    if (existing) {
      const firstTime = !this.desk.wasCredited(notice.reporter, check.key);
      this.record({ kind: 'notice', notice, at, verdict: 'duplicate' });
      // The reporter may have missed the gossip: hand it the alert directly.
      out.send.push({ to: { node: reporter }, msg: { type: 'alert', alert: existing } });
      if (firstTime && this.rewardable(notice.evidence, proof, reporter, epoch)) this.reputationChange(this.book.change(notice.reporter, 'duplicate-notice', epoch, at));
      return out;
    }
    const alert: Alert = sign(AlertCodec, this.network, this.signer, { notice, alertSeq: this.desk.nextAlertSeq() });
    this.record({ kind: 'notice', notice, at, verdict: 'alert', alert });
    out.send.push({ to: BROADCAST, msg: { type: 'alert', alert } });
    this.echo.made(alert, at);
    out.events.push({ type: 'alert', alert, evidence: notice.evidence });
    if (this.rewardable(notice.evidence, proof, reporter, epoch)) this.reputationChange(this.book.change(notice.reporter, 'valid-notice', epoch, at));
    const culprit = equivocator(notice.evidence);
    if (culprit) this.reputationChange(this.book.change(culprit, 'equivocation', epoch, at));
    return out;
  }

  /** A notice already judged (a retry): the same answer again, to the reporter only, changing nothing. */
  private answerAgain(prior: Extract<LogEntry, { kind: 'notice' }>): Output<MintEvent> {
    const out = this.step.out;
    const to: Address = { node: toHex(prior.notice.reporter) };
    if (prior.verdict === 'repudiated') out.send.push({ to, msg: { type: 'repudiation', repudiation: prior.repudiation } });
    else {
      const alert = prior.verdict === 'alert' ? prior.alert : this.desk.alertFor(offenceKey(prior.notice.evidence));
      if (alert) out.send.push({ to, msg: { type: 'alert', alert } });
    }
    return out;
  }

  private onJoin(join: JoinRequest, source: string | undefined): Output<MintEvent> {
    const out = this.step.out;
    const ring = this.chain.currentRing();
    const decision = this.admission.decideJoin(
      this.network,
      this.scheme,
      join,
      source,
      this.clock.now(),
      (id) => ring.isMember(fromHex(id)),
      (id) => (this.book.shouldEvict(id) ? Reason.BANNED : undefined),
    );
    if (decision.kind === 'refuse') return out;
    if (decision.kind === 'admit') {
      this.record({ kind: 'admitted', node: join.node });
      out.events.push({ type: 'admitted', node: join.node });
    }
    // A joining (or restarted) node learns the ring from the mint directly; it may not be on gossip yet.
    out.send.push({ to: { node: toHex(join.node) }, msg: { type: 'epoch', record: this.chain.current } });
    return out;
  }

  /**
   * A node catching up (protocol.md §7, Catch-up): the records from `from` on, a bounded
   * batch per request and a bounded number of answers per second, all senders together.
   */
  private onEpochRequest(node: string, from: number): void {
    const out = this.step.out;
    const now = this.clock.now();
    if (now - this.answerWindow >= 1_000) {
      this.answerWindow = now;
      this.answers = 0;
    }
    const start = Math.max(1, from);
    const last = Math.min(this.chain.current.epoch, start + EPOCHS_PER_ANSWER - 1);
    // An up-to-date node's poll costs nothing and counts against no one.
    if (start > last || this.answers >= EPOCH_ANSWERS_PER_SECOND) return;
    this.answers++;
    for (let n = start; n <= last; n++) out.send.push({ to: { node }, msg: { type: 'epoch', record: this.chain.get(n)! } });
  }
  /** Cheapest first: the sender is the reporter and a member, not too soon again; then the signature. */
  private onReachability(sender: string, report: ReachabilityReport): void {
    if (!this.liveness.enabled || sender !== toHex(report.reporter)) return;
    const ring = this.chain.currentRing();
    if (!ring.isMember(report.reporter)) return;
    const now = this.clock.now();
    if (!this.liveness.wants(sender, now)) return;
    if (!verify(ReachabilityCodec, this.network, this.scheme, report.reporter, report)) return;
    this.liveness.onReport(sender, report.unreachable, now, (hex) => ring.isMember(fromHex(hex)));
  }

  private answerWindow = -Infinity;
  private answers = 0;

  /** Operator admission (any policy); throws Rejection(BANNED) for a node the mint would evict. */
  admit(node: Bytes): Output<MintEvent> {
    const out = this.step.begin();
    if (node.length !== 32) throw new Rejection(Reason.BAD_REQUEST, 'a node id is 32 bytes');
    const id = toHex(node);
    if (this.book.isBanned(id)) throw new Rejection(Reason.BANNED, 'node is banned for equivocation');
    if (this.book.shouldEvict(id)) throw new Rejection(Reason.BANNED, 'node reputation is below the eviction line');
    if (this.chain.currentRing().isMember(node) || this.admission.isPending(id)) return out;
    this.record({ kind: 'admitted', node: Uint8Array.from(node) });
    out.events.push({ type: 'admitted', node });
    out.send.push({ to: { node: id }, msg: { type: 'epoch', record: this.chain.current } });
    return out;
  }

  // ------------------------------------------------------------ epochs

  tick(): Output<MintEvent> {
    const out = this.step.begin();
    const now = this.clock.now();
    if (this.options.redriveMs > 0) this.redriveDue(now);
    for (const alert of this.echo.due(now)) out.send.push({ to: BROADCAST, msg: { type: 'alert', alert } });
    const cur = this.chain.current;
    if (this.liveness.enabled && this.livenessFrom === null) {
      this.livenessFrom = now;
      this.liveness.onMembers(cur.members.map(toHex), now);
    }
    if (now - cur.issuedAt < this.options.epochIntervalMs) return out;
    let dead: string[] = [];
    if (this.liveness.enabled && now >= this.nextLivenessScan) {
      this.nextLivenessScan = now + 1_000;
      dead = this.liveness.dead(cur.members.map(toHex), now);
      // Never below k members: a ring smaller than a custody group cannot certify anything.
      if (cur.members.length - dead.length < cur.k) dead = dead.slice(0, Math.max(0, cur.members.length - cur.k));
    }
    // Nobody to admit or evict: no new epoch, and no scan of every member (100,000 in a large simulation).
    if (this.admission.pending().length === 0 && dead.length === 0 && !this.book.anyEvictable()) return out;
    const members = cur.members.map(toHex);
    const deadSet = new Set(dead);
    const evicted = members.filter((m) => this.book.shouldEvict(m) || deadSet.has(m));
    const memberSet = new Set(members);
    const admitted = this.admission.pending().filter((m) => !memberSet.has(m) && !this.book.shouldEvict(m));
    if (evicted.length === 0 && admitted.length === 0) return out;
    const gone = new Set(evicted);
    const next = [...members.filter((m) => !gone.has(m)), ...admitted];
    if (next.length === 0) return out; // an epoch needs members: keep the last ones rather than halt the ring
    const record = this.chain.next(this.signer, next, now);
    this.record({ kind: 'epoch', record });
    out.send.push({ to: BROADCAST, msg: { type: 'epoch', record } });
    for (const m of admitted) {
      out.send.push({ to: { node: m }, msg: { type: 'epoch', record } });
      // A newcomer missed the alerts gossiped before it joined; it must freeze and void as everyone else did (I6).
      for (const alert of this.desk.alerts()) out.send.push({ to: { node: m }, msg: { type: 'alert', alert } });
    }
    out.events.push({ type: 'epoch', record });
    for (const m of evicted) {
      const why = this.book.isBanned(m) ? 'proven equivocation' : this.book.shouldEvict(m) ? 'reputation below the eviction line' : `no reachability report for ${this.options.evictAfterMs} ms and reported unreachable`;
      out.events.push({ type: 'evicted', node: fromHex(m), why });
    }
    if (this.liveness.enabled) this.liveness.onMembers(next, now);
    for (const event of this.book.decay(record.epoch, now)) {
      this.record({ kind: 'reputation', event });
      out.events.push({ type: 'reputation', event });
    }
    return out;
  }

  // ------------------------------------------------------------ queries

  currentEpoch(): EpochRecord {
    return this.chain.current;
  }
  epoch(n: number): EpochRecord | undefined {
    return this.chain.get(n);
  }
  epochs(): readonly EpochRecord[] {
    return this.chain.all();
  }
  reputation(): ReadonlyMap<string, number> {
    return this.book.all();
  }
  reputationEvents(): readonly ReputationEvent[] {
    return this.book.events();
  }
  isBanned(node: Bytes): boolean {
    return this.book.isBanned(toHex(node));
  }
  notices(): readonly NoticeLine[] {
    return this.desk.notices();
  }
  alerts(): readonly Alert[] {
    return this.desk.alerts();
  }
  issuedTotal(): bigint {
    return this.issuer.issuedTotal;
  }
  issued(): readonly Transfer[] {
    return this.issuer.transfers();
  }
  /** Hex ids admitted for the next epoch. */
  pendingAdmissions(): readonly string[] {
    return this.admission.pending();
  }
}
