// The invariant checker (protocol.md §9, I1-I8), fed by the machines' event streams and,
// at the end, by their final state. It only watches: it never decides anything
// the protocol decides. I3 (no double spend) is checked the moment a certificate
// appears; the others at the end, over all accounts and bundles or an even sample
// of them in big runs (params.checkSample).
import { equal, hexOf, toHex, type Bytes } from '../protocol/bytes.ts';
import { transferId } from '../protocol/objects.ts';
import type { NodeEvent } from '../node/core/api.ts';
import { agreement, replicaOfView, type ReplicaView } from '../node/core/read-quorum.ts';
import type { MintEvent, MintMachineApi } from '../mint/core/api.ts';
import { sharedRing } from '../node/core/node-context.ts';
import type { Host } from './host.ts';
import type { Workload, TxRecord } from './workload.ts';

/** I1-I9 of protocol.md §9; R1: resource bounds (bounds.ts). */
export const INVARIANTS = ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9', 'R1'] as const;
export type Invariant = (typeof INVARIANTS)[number];

type Snapshot = { accounts: { account: Bytes; seq: number; head: string | null; balance: bigint }[]; bundles: Bytes[] };

export class Checker {
  private readonly failures = new Map<Invariant, string>();
  /** (from hex, seq) -> certified transfer id hex: I3. */
  private readonly certifiedAt = new Map<string, string>();
  /** (from hex, seq) -> the voters (hex) of its certificate, kept only when one of them is not honest (I3). */
  private readonly dishonestlyCertified = new Map<string, string[]>();
  /** Accounts (hex) certified twice at one seq by dishonest voters: their ledger may overdraw (I2 is not checked). */
  private readonly equivocated = new Set<string>();
  /** Whether a node (hex) is not honest (a Byzantine or equivocating member): set by the world. */
  dishonest: (hex: string) => boolean = () => false;
  /** Per account hex: credits applied somewhere, certified debits (I2). */
  private readonly credits = new Map<string, bigint>();
  private readonly debits = new Map<string, bigint>();
  /** Transfer id hex -> host indexes that credited it (I4). */
  private readonly creditedBy = new Map<string, number[]>();
  private readonly certifiedIds = new Set<string>();
  /** Transfer id hex -> [virtual ms first certified, the transfer] (I9). */
  private readonly certifiedWhen = new Map<string, { at: number; transfer: import('../protocol/objects.ts').Transfer }>();
  private readonly snapshots = new Map<number, Snapshot>();
  private readonly mintHex: string;
  private readonly workload: Workload;
  /** Replicas that lag the ledger at the end (informational). */
  replicaLag = 0;
  /** Attempt ids (hex) -> honest hosts that got a vote-request for them (I6 reach). */
  readonly reached = new Map<string, Set<number>>();
  firstFailureAt: number | null = null;

  constructor(mintKey: Bytes, workload: Workload) {
    this.mintHex = toHex(mintKey);
    this.workload = workload;
  }

  fail(inv: Invariant, why: string, now: number): void {
    if (this.failures.has(inv)) return;
    this.failures.set(inv, why);
    if (this.firstFailureAt === null) this.firstFailureAt = now;
  }

  get failed(): boolean {
    return this.failures.size > 0;
  }

  results(): Record<Invariant, string> {
    const out = {} as Record<Invariant, string>;
    for (const inv of INVARIANTS) {
      const f = this.failures.get(inv);
      out[inv] = f === undefined ? 'pass' : `fail: ${f}`;
    }
    return out;
  }

  onNodeEvent(host: Host, ev: NodeEvent, now: number): void {
    switch (ev.type) {
      case 'certified': {
        const t = ev.certificate.transfer;
        const idHex = hexOf(transferId(t));
        if (this.certifiedIds.has(idHex)) return;
        this.certifiedIds.add(idHex);
        this.certifiedWhen.set(idHex, { at: now, transfer: t });
        const fromHex = hexOf(t.from);
        const key = `${fromHex}/${t.seq}`;
        const prev = this.certifiedAt.get(key);
        const voters = ev.certificate.votes.map((v) => hexOf(v.voter));
        if (prev !== undefined && prev !== idHex) {
          // Two quorums of q in a group of k share 2q - k voters: the protocol promises one
          // certificate per (account, seq) only while fewer than that equivocate (protocol.md
          // §6). Two whose shared voters are all dishonest are that, not a breach; the
          // ledger counts both (both may be credited), and may overdraw the account.
          const first = this.dishonestlyCertified.get(key);
          if (first !== undefined && voters.filter((v) => first.includes(v)).every((v) => this.dishonest(v))) this.equivocated.add(fromHex);
          else this.fail('I3', `two certified transfers for account ${fromHex.slice(0, 16)} seq ${t.seq}: ${prev.slice(0, 16)} and ${idHex.slice(0, 16)} (at ${Math.round(now)} ms)`, now);
        } else {
          this.certifiedAt.set(key, idHex);
          if (voters.some((v) => this.dishonest(v))) this.dishonestlyCertified.set(key, voters);
        }
        if (fromHex !== this.mintHex) {
          const d = (this.debits.get(fromHex) ?? 0n) + t.amount;
          this.debits.set(fromHex, d);
          const c = this.credits.get(fromHex) ?? 0n;
          if (d > c && !this.equivocated.has(fromHex)) this.fail('I2', `account ${fromHex.slice(0, 16)}: certified debits ${d} exceed applied credits ${c} (at ${Math.round(now)} ms)`, now);
        }
        return;
      }
      case 'credited': {
        const idHex = hexOf(ev.transferId);
        let by = this.creditedBy.get(idHex);
        if (by === undefined) {
          this.creditedBy.set(idHex, (by = []));
          const toHexId = toHex(ev.to);
          this.credits.set(toHexId, (this.credits.get(toHexId) ?? 0n) + ev.amount);
          const rec = this.workload.byId.get(idHex);
          if (!this.certifiedIds.has(idHex)) this.fail('I1', `credit of ${idHex.slice(0, 16)} applied before any certificate was seen`, now);
          else if (rec !== undefined && BigInt(rec.amount) !== ev.amount) this.fail('I1', `credit of ${idHex.slice(0, 16)} for ${ev.amount}, transfer says ${rec.amount}`, now);
        }
        if (!host.amnesiac && by.includes(host.index)) {
          this.fail('I4', `node ${host.index} credited transfer ${idHex.slice(0, 16)} twice (at ${Math.round(now)} ms)`, now);
        }
        if (!by.includes(host.index)) by.push(host.index);
        return;
      }
      case 'frozen': {
        const hex = toHex(ev.account);
        const w = this.workload.wallets.find((x) => x.idHex === hex);
        if (host.honest && w !== undefined && !w.doubleSpender) this.fail('I7', `honest account ${hex.slice(0, 16)} frozen by node ${host.index}`, now);
        return;
      }
      default:
        return;
    }
  }

  onMintEvent(ev: MintEvent, now: number, honest: (nodeHex: string) => boolean): void {
    if (ev.type === 'reputation') {
      const e = ev.event;
      const hex = toHex(e.node);
      if (honest(hex) && e.delta < 0 && e.reason !== 'decay') {
        this.fail('I7', `honest node ${hex.slice(0, 16)} lost ${-e.delta} reputation (${e.reason})`, now);
      }
    } else if (ev.type === 'evicted' && honest(toHex(ev.node))) {
      this.fail('I7', `honest node ${toHex(ev.node).slice(0, 16)} evicted: ${ev.why}`, now);
    }
  }

  /** I5, before a crash: what the node answers now about a sample of its accounts and bundles. */
  snapshot(host: Host, sample: number): void {
    const m = host.machine;
    if (m === null || host.amnesiac) return;
    const ring = sharedRing(m.currentEpoch());
    const accounts: Snapshot['accounts'] = [];
    for (const w of this.workload.wallets) {
      if (accounts.length >= sample) break;
      if (!ring.isCustodian(host.id, w.id)) continue;
      const v = m.account(w.id);
      if (v) accounts.push({ account: w.id, seq: v.seq, head: v.head ? toHex(v.head) : null, balance: v.balance });
    }
    const bundles: Bytes[] = [];
    for (const rec of this.workload.byId.values()) {
      if (bundles.length >= sample) break;
      if (rec.status !== 'stored') continue;
      const id = transferId(rec.transfer);
      if (m.bundle(id)) bundles.push(id);
    }
    this.snapshots.set(host.index, { accounts, bundles });
  }

  /** I5, after a restart from the store: it must answer exactly as before. */
  verifyRestart(host: Host, now: number): void {
    const snap = this.snapshots.get(host.index);
    this.snapshots.delete(host.index);
    const m = host.machine;
    if (!snap || m === null || host.amnesiac) return;
    for (const s of snap.accounts) {
      const v = m.account(s.account);
      const head = v?.head ? toHex(v.head) : null;
      // An empty account (nothing locked, nothing credited) and an unknown one answer alike.
      if (!v && s.seq === 0 && s.balance === 0n && s.head === null) continue;
      if (!v || v.seq !== s.seq || head !== s.head || v.balance !== s.balance) {
        this.fail('I5', `node ${host.index} after restart: account ${toHex(s.account).slice(0, 16)} was seq ${s.seq} balance ${s.balance}, now ${v ? `seq ${v.seq} balance ${v.balance}` : 'unknown'}`, now);
        return;
      }
    }
    for (const id of snap.bundles) {
      if (!m.bundle(id)) {
        this.fail('I5', `node ${host.index} after restart lost stored bundle ${toHex(id).slice(0, 16)}`, now);
        return;
      }
    }
  }

  /** End-of-run checks. `quiet`: nothing in flight and no partition, so "eventually" has come. */
  finish(hosts: readonly Host[], mint: MintMachineApi, quiet: boolean, sample: number, now: number): void {
    const live = hosts.filter((h) => h.up && h.machine !== null);
    const ring = sharedRing(mint.currentEpoch());
    const q = ring.q;
    const byHex = new Map(hosts.map((h) => [h.idHex, h]));
    const recs = [...this.workload.byId.values()];
    const every = <T>(xs: T[]): T[] => (xs.length <= sample ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / sample) === 0));

    // I1: the ledger adds up, and (when quiet) some live honest replica of each account agrees with it.
    let issued = 0n;
    let inFlight = 0n;
    let balances = 0n;
    for (const rec of recs) {
      if (!this.certifiedIds.has(rec.idHex)) continue;
      if (rec.kind === 'issue') issued += BigInt(rec.amount);
      if (!this.creditedBy.has(rec.idHex)) inFlight += BigInt(rec.amount);
    }
    for (const w of this.workload.wallets) balances += (this.credits.get(w.idHex) ?? 0n) - (this.debits.get(w.idHex) ?? 0n);
    if (balances + inFlight !== issued) this.fail('I1', `balances ${balances} + in flight ${inFlight} != issued ${issued}`, now);
    if (quiet) {
      for (const w of every(this.workload.wallets.filter((x) => !x.doubleSpender && x.busy === null))) {
        const expect = (this.credits.get(w.idHex) ?? 0n) - (this.debits.get(w.idHex) ?? 0n);
        let agree = 0;
        let asked = 0;
        // What a node's HTTP read would answer (core/read-quorum.ts): every live custodian, honest or not.
        const read: ReplicaView[] = [];
        for (const c of ring.custodians(w.id)) {
          const h = byHex.get(toHex(c));
          if (!h || !h.up || h.amnesiac || !h.machine) continue;
          const v = h.machine.account(w.id);
          const r = replicaOfView(v);
          if (r !== undefined) read.push(r);
          if (!h.honest || !v || !v.synced) continue;
          asked++;
          if (v.balance === expect) agree++;
          else this.replicaLag++;
        }
        if (asked > 0 && agree === 0) {
          this.fail('I1', `account ${w.idHex.slice(0, 16)}: ledger says ${expect}, no live custodian agrees`, now);
          break;
        }
        const quorumRead = agreement(read);
        if (quorumRead !== null && quorumRead.count >= ring.q && quorumRead.view.balance !== expect) {
          this.fail('I1', `account ${w.idHex.slice(0, 16)}: a quorum read answers ${quorumRead.view.balance}, ledger says ${expect}`, now);
          break;
        }
      }
    }

    // I4: eventually exactly once: every certified transfer credited by some custodian.
    if (quiet) {
      for (const rec of recs) {
        if (this.certifiedIds.has(rec.idHex) && !this.creditedBy.has(rec.idHex)) {
          this.fail('I4', `certified transfer ${rec.idHex.slice(0, 16)} never credited`, now);
          break;
        }
      }
    }

    // I6: every conflicting pair that reached an honest custodian yields a notice; every alert reaches every live node.
    for (const a of this.workload.attempts) {
      const [x, y] = a.ids;
      const rx = this.reached.get(x);
      const ry = this.reached.get(y);
      let both = false;
      if (rx && ry) for (const n of rx) if (ry.has(n)) both = true;
      if (both && a.detectedAt === undefined) this.fail('I6', `double spend by account ${a.account} seq ${a.seq} reached an honest custodian and yielded no notice`, now);
    }
    const alerts = mint.notices().filter((n) => n.verdict === 'alert');
    if (quiet && alerts.length > 0) {
      for (const h of live) {
        if (!h.honest) continue;
        const have = h.machine!.alerts().length;
        const due = alerts.filter((n) => n.at >= h.startedAt || h.crashes === 0).length;
        if (have < Math.min(due, alerts.length) && h.startedAt <= alerts[0]!.at) {
          this.fail('I6', `node ${h.index} holds ${have} alerts, the mint made ${alerts.length}`, now);
          break;
        }
      }
    }

    // I7: honest scores never below zero at the end.
    for (const [hex, score] of mint.reputation()) {
      const h = byHex.get(hex);
      if (h && h.honest && score < 0) this.fail('I7', `honest node ${h.index} ends with reputation ${score}`, now);
    }

    // I8: each stored bundle held by at least q live storage replicas, where no more than k - q failed.
    if (quiet) {
      const stored = every(recs.filter((r) => r.status === 'stored'));
      for (const rec of stored) {
        const id = transferId(rec.transfer);
        let liveSlots = 0;
        let holders = 0;
        for (const n of ring.storage(id)) {
          const h = byHex.get(toHex(n));
          if (!h || !h.up || !h.honest || h.amnesiac || !h.machine) continue;
          liveSlots++;
          const b = h.machine.bundle(id);
          if (!b) continue;
          // A bundle held under this id must be this transfer's (a forged or misfiled one is not a copy).
          if (!equal(transferId(b.certificate.transfer), id)) {
            this.fail('I8', `node ${h.index} holds a bundle under ${rec.idHex.slice(0, 16)} for another transfer`, now);
            break;
          }
          holders++;
        }
        if (ring.k - liveSlots > ring.k - q) continue; // more than f failed in this group
        if (holders < q) {
          this.fail('I8', `bundle ${rec.idHex.slice(0, 16)} held by ${holders} live storage replicas, q = ${q}`, now);
          break;
        }
      }
    }
  }

  /**
   * I9 (liveness): every transfer certified at c is credited and its bundle held by q
   * live storage replicas (where no more than k - q of them failed) by max(c, last fault
   * or healing) + bound; every live honest node up that long holds the mint's epoch.
   * Checked at the end of the run over what is due by then (a sample in big runs).
   */
  liveness(hosts: readonly Host[], mint: MintMachineApi, lastFaultAt: number, boundMs: number, sample: number, now: number): void {
    if (boundMs <= 0) return;
    const ring = sharedRing(mint.currentEpoch());
    const byHex = new Map(hosts.map((h) => [h.idHex, h]));
    const due: string[] = [];
    for (const [idHex, c] of this.certifiedWhen) if (Math.max(c.at, lastFaultAt) + boundMs <= now) due.push(idHex);
    const step = due.length <= sample ? 1 : Math.ceil(due.length / sample);
    let stranded = 0;
    let first = '';
    // More than k - q failed in a group (down, lost its disk, or not honest) is outside what the protocol promises.
    const sound = (h: Host | undefined): h is Host => h !== undefined && h.up && h.honest && !h.amnesiac && h.machine !== null;
    const tooManyFailed = (nodes: readonly Bytes[]): boolean => {
      let failed = 0;
      for (const n of nodes) if (!sound(byHex.get(hexOf(n)))) failed++;
      return failed > ring.k - ring.q;
    };
    for (let i = 0; i < due.length; i += step) {
      const idHex = due[i]!;
      const c = this.certifiedWhen.get(idHex)!;
      const id = transferId(c.transfer);
      const storage = ring.storage(id);
      if (tooManyFailed(storage) || tooManyFailed(ring.custodians(c.transfer.to))) continue;
      const credited = this.creditedBy.has(idHex);
      let liveSlots = 0;
      let holders = 0;
      for (const n of storage) {
        const h = byHex.get(hexOf(n));
        if (!sound(h)) continue;
        liveSlots++;
        if (h.machine!.bundle(id)) holders++;
      }
      if (credited && holders >= ring.q) continue;
      stranded++;
      if (first === '') {
        const rec = this.workload.byId.get(idHex);
        first = `${rec?.kind ?? 'transfer'} ${idHex.slice(0, 16)} certified at ${Math.round(c.at)} ms: ${credited ? 'credited' : 'never credited'}, stored at ${holders} of ${liveSlots} live storage replicas (q = ${ring.q}) at ${Math.round(now)} ms`;
      }
    }
    if (stranded > 0) this.fail('I9', `${stranded} certified transfer(s) not credited and stored ${boundMs / 1000} s after the last fault healed; first: ${first}`, now);
    const cur = mint.currentEpoch();
    if (cur.epoch > 0 && Math.max(cur.issuedAt, lastFaultAt) + boundMs <= now) {
      for (const h of hosts) {
        if (!h.up || !h.honest || !h.machine || h.startedAt + boundMs > now) continue;
        const e = h.machine.currentEpoch().epoch;
        if (e < cur.epoch) {
          this.fail('I9', `node ${h.index} holds epoch ${e}, the mint made epoch ${cur.epoch} at ${cur.issuedAt} ms`, now);
          break;
        }
      }
    }
  }

  /** Double spends certified twice (I3 breaches), for the summary. */
  certifiedBoth(ids: [string, string]): boolean {
    return this.certifiedIds.has(ids[0]) && this.certifiedIds.has(ids[1]);
  }

  isCertified(idHex: string): boolean {
    return this.certifiedIds.has(idHex);
  }
}

export function sameId(a: Bytes, b: Bytes): boolean {
  return equal(a, b);
}

export type { TxRecord };
