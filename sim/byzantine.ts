// Byzantine peers: members (role 'byzantine', which also run an honest machine) and
// non-members (role 'outsider', a key in no epoch). Every byzantineEveryMs each sends a
// burst of well-formed messages of every type with arbitrary fields: forged signatures
// (signed with its own key, naming someone else), replayed genuine objects, wrong
// epochs, spoofed `stored`, `conflict` and `lookup-reply` answers, account pulls and
// states, digests, unsigned future epoch records, and floods of one kind. They hold only
// what an attacker holds: their own keys, and objects they saw on the wire. Half of a
// burst is the host's flood kind (picked per host), so a state that grows per message
// outgrows its bound (R1) within a short run.
import { ZERO32, compare, equal, type Bytes } from '../protocol/bytes.ts';
import { Reason, type ReasonCode } from '../protocol/errors.ts';
import type { Message, MessageType } from '../protocol/messages.ts';
import {
  ReceiptCodec, TransferCodec, VoteCodec, sign, transferId,
  type Bundle, type Certificate, type EpochRecord, type Receipt, type Transfer, type Vote,
} from '../protocol/objects.ts';
import type { Address } from '../protocol/ports.ts';
import type { Signer } from '../protocol/signature.ts';
import type { Host } from './host.ts';
import { Prng } from './prng.ts';
import type { WorldView } from './world-view.ts';

/** The message types a Byzantine peer sends to nodes. */
export const BYZANTINE_KINDS = [
  'vote-request', 'vote', 'reject', 'conflict', 'certified', 'credit-request', 'receipt', 'store', 'stored',
  'lookup', 'lookup-reply', 'account-pull', 'account-state', 'digest', 'submit', 'alert', 'repudiation', 'epoch',
] as const satisfies readonly MessageType[];
export type ByzantineKind = (typeof BYZANTINE_KINDS)[number];

/** Objects seen on the wire, kept for replay and for well-formed forgeries (a ring of each). */
const SEEN = 64;

class Ring<T> {
  private readonly xs: T[] = [];
  private at = 0;
  push(x: T): void {
    if (this.xs.length < SEEN) this.xs.push(x);
    else this.xs[this.at++ % SEEN] = x;
  }
  pick(rng: Prng): T | undefined {
    return this.xs.length === 0 ? undefined : this.xs[rng.int(this.xs.length)];
  }
}

const REASONS = Object.values(Reason) as ReasonCode[];

export class Byzantine {
  private readonly w: WorldView;
  private readonly rng: Prng;
  private readonly kinds: readonly ByzantineKind[];
  private readonly attackers: Host[];
  private readonly flood = new Map<number, ByzantineKind>();
  private victims: Host[] = [];
  private readonly transfers = new Ring<Transfer>();
  /** Transfers and the gateway they were handed to: where a spoofed `stored` does harm. */
  private readonly handed = new Ring<{ t: Transfer; gateway: number }>();
  private readonly votes = new Ring<Vote>();
  private readonly certificates = new Ring<Certificate>();
  private readonly receipts = new Ring<Receipt>();
  private readonly bundles = new Ring<Bundle>();
  private observed = 0;
  private drainingSince = -1;
  sent = 0;
  readonly byKind = new Map<string, number>();

  constructor(w: WorldView) {
    this.w = w;
    this.rng = w.rng.fork('byzantine');
    const named = w.params.adversaries.byzantineKinds;
    this.kinds = named.length > 0 ? (BYZANTINE_KINDS.filter((k) => named.includes(k))) : BYZANTINE_KINDS;
    this.attackers = w.hosts.filter((h) => h.role === 'byzantine' || h.role === 'outsider');
  }

  get active(): boolean {
    return this.attackers.length > 0 && this.kinds.length > 0;
  }

  /** Starts every attacker's bursts. */
  schedule(): void {
    if (!this.active) return;
    const w = this.w;
    const p = w.params.adversaries;
    const honest = w.hosts.filter((h) => h.honest);
    const victims = new Set<Host>();
    for (let i = 0; i < p.byzantineVictims && honest.length > 0; i++) victims.add(honest[this.rng.int(honest.length)]!);
    this.victims = [...victims];
    for (const h of this.attackers) {
      this.flood.set(h.index, this.kinds[this.rng.int(this.kinds.length)]!);
      const every = p.byzantineEveryMs;
      const burst = (): void => {
        if (w.state === 'done') return;
        if (w.state === 'draining' && this.drainingSince < 0) this.drainingSince = w.sched.time;
        // Quiet 10 s after the last arrival: the run must be able to settle.
        if (this.drainingSince >= 0 && w.sched.time > this.drainingSince + 10_000) return;
        if (w.state !== 'funding') this.burst(h);
        w.call(w.sched.time + every * (0.5 + this.rng.next()), burst);
      };
      w.call(every * (1 + this.rng.next()), burst);
    }
  }

  /** A message on the wire (sampled): material for replays and forgeries. */
  observe(msg: Message, from: number, to: Address): void {
    if ((this.observed++ & 3) !== 0) return;
    switch (msg.type) {
      case 'vote-request': this.transfers.push(msg.transfer); return;
      case 'vote': this.votes.push(msg.vote); return;
      case 'credit-request': this.certificates.push(msg.certificate); return;
      case 'receipt': this.receipts.push(msg.receipt); return;
      case 'store': this.bundles.push(msg.bundle); return;
      default: void from; void to;
    }
  }

  /** A wallet handed `t` to gateway `g`. */
  onSubmit(t: Transfer, g: number): void {
    this.handed.push({ t, gateway: g });
  }

  private burst(h: Host): void {
    const w = this.w;
    if (h.role === 'byzantine' && !h.up) return;
    const n = w.params.adversaries.byzantineBurst;
    const flood = this.flood.get(h.index)!;
    for (let i = 0; i < n; i++) {
      const kind = i % 2 === 0 ? flood : this.kinds[this.rng.int(this.kinds.length)]!;
      const made = this.make(h, kind);
      if (made === null) continue;
      this.sent++;
      this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
      w.route(h.index, made.to, made.msg);
    }
  }

  private target(): Address {
    const w = this.w;
    if (this.victims.length > 0 && this.rng.next() < 0.8) return this.victims[this.rng.int(this.victims.length)]!.addr;
    const members = w.hosts.filter((x) => x.role !== 'outsider' && !x.left);
    return members[this.rng.int(members.length)]!.addr;
  }

  private epoch(): number {
    const e = this.w.genesis.epoch0.epoch;
    return e;
  }

  /** An epoch number: mostly right (as far as the attacker knows), sometimes off. */
  private someEpoch(h: Host): number {
    const cur = h.machine ? h.machine.currentEpoch().epoch : this.epoch();
    const r = this.rng.next();
    return r < 0.6 ? cur : r < 0.8 ? cur + 1 + this.rng.int(100) : Math.max(0, cur - 1 - this.rng.int(3));
  }

  private bytes32(): Bytes {
    return this.rng.bytes(32);
  }

  private randomMember(): Bytes {
    const ms = this.w.genesis.epoch0.members;
    return ms[this.rng.int(ms.length)]!;
  }

  private randomWallet(): Bytes {
    const ws = this.w.workload.wallets;
    return ws[this.rng.int(ws.length)]!.id;
  }

  /** A fresh account's key: a valid signature over an account that holds nothing. */
  private freshSigner(): Signer {
    return this.w.scheme.signer(this.bytes32());
  }

  /** A transfer: from a fresh, empty account (valid signature), forged (a real account, the attacker's signature), or replayed. */
  private transfer(h: Host, forged = 0): Transfer {
    const net = this.w.genesis.network;
    const r = this.rng.next() < forged ? 1 : this.rng.next();
    const seen = this.transfers.pick(this.rng);
    if (r < 0.25 && seen) return seen;
    const amount = BigInt(1 + this.rng.int(r < 0.6 ? 10 : 1_000_000_000));
    const memo = new Uint8Array(0);
    if (r < 0.6) {
      const s = this.freshSigner();
      return sign(TransferCodec, net, s, { from: s.publicKey, to: this.randomWallet(), amount, seq: 1 + this.rng.int(r < 0.5 ? 1 : 5), prev: ZERO32, memo });
    }
    const from = seen && this.rng.next() < 0.5 ? seen.from : this.randomWallet();
    return sign(TransferCodec, net, h.signer, {
      from, to: this.randomWallet(), amount, seq: seen && this.rng.next() < 0.5 ? seen.seq : 1 + this.rng.int(50), prev: seen ? seen.prev : ZERO32, memo,
    }) as Transfer;
  }

  /** A vote: replayed, the attacker's own (wrong epoch maybe), or forged in another member's name. */
  private vote(h: Host, t: Transfer): Vote {
    const net = this.w.genesis.network;
    const seen = this.votes.pick(this.rng);
    const r = this.rng.next();
    if (r < 0.2 && seen) return seen;
    const voter = r < 0.5 || h.role === 'outsider' ? this.randomMember() : h.id;
    return sign(VoteCodec, net, h.signer, { transferId: transferId(t), from: t.from, seq: t.seq, epoch: this.someEpoch(h), voter });
  }

  private certificate(h: Host): Certificate {
    const seen = this.certificates.pick(this.rng);
    if (seen && this.rng.next() < 0.3) return seen;
    const t = this.transfer(h);
    const q = this.w.genesis.epoch0.q;
    const votes: Vote[] = [];
    for (let i = 0; i < q; i++) votes.push(this.vote(h, t));
    // Genuine votes of another transfer, under this one.
    if (seen && this.rng.next() < 0.3) return { transfer: t, votes: seen.votes };
    return { transfer: t, votes };
  }

  private receipt(h: Host, c: Certificate): Receipt {
    const seen = this.receipts.pick(this.rng);
    if (seen && this.rng.next() < 0.2) return seen;
    const t = c.transfer;
    const custodian = h.role === 'outsider' || this.rng.next() < 0.5 ? this.randomMember() : h.id;
    return sign(ReceiptCodec, this.w.genesis.network, h.signer, { transferId: transferId(t), to: t.to, amount: t.amount, epoch: this.someEpoch(h), custodian });
  }

  private bundle(h: Host): Bundle {
    const seen = this.bundles.pick(this.rng);
    if (seen && this.rng.next() < 0.2) return seen;
    const c = this.certificate(h);
    const receipts: Receipt[] = [];
    for (let i = 0; i < this.w.genesis.epoch0.q; i++) receipts.push(this.receipt(h, c));
    return { certificate: c, receipts };
  }

  /** Some transfer id: in flight, seen, or made up. */
  private someId(h: Host): Bytes {
    const handed = this.handed.pick(this.rng);
    if (handed && this.rng.next() < 0.6) return transferId(handed.t);
    return this.rng.next() < 0.5 ? transferId(this.transfer(h)) : this.bytes32();
  }

  private epochRecord(h: Host): EpochRecord {
    const cur = h.machine ? h.machine.currentEpoch() : this.w.genesis.epoch0;
    const members = cur.members.filter(() => this.rng.next() < 0.7);
    if (members.length === 0) members.push(cur.members[0]!);
    if (h.role === 'byzantine' && !members.some((m) => equal(m, h.id))) members.push(h.id);
    members.sort(compare);
    return {
      network: this.w.genesis.network, epoch: cur.epoch + 1 + this.rng.int(80), members, k: cur.k, q: cur.q,
      prev: this.bytes32(), issuedAt: Math.floor(this.w.sched.time), sig: this.rng.bytes(64),
    };
  }

  private make(h: Host, kind: ByzantineKind): { to: Address; msg: Message } | null {
    const to = this.target();
    switch (kind) {
      case 'vote-request': return { to, msg: { type: 'vote-request', transfer: this.transfer(h) } };
      case 'submit': return { to, msg: { type: 'submit', transfer: this.transfer(h, 0.5) } };
      case 'vote': {
        const seen = this.handed.pick(this.rng);
        const t = seen && this.rng.next() < 0.7 ? seen.t : this.transfer(h);
        return { to: seen && this.rng.next() < 0.7 ? this.w.hosts[seen.gateway]!.addr : to, msg: { type: 'vote', vote: this.vote(h, t) } };
      }
      case 'reject': {
        const seen = this.handed.pick(this.rng);
        const id = seen ? transferId(seen.t) : this.someId(h);
        return { to: seen && this.rng.next() < 0.7 ? this.w.hosts[seen.gateway]!.addr : to, msg: { type: 'reject', transferId: id, code: REASONS[this.rng.int(REASONS.length)]!, detail: 'no' } };
      }
      case 'conflict': {
        const seen = this.handed.pick(this.rng);
        const id = seen ? transferId(seen.t) : this.someId(h);
        const locked = this.transfer(h);
        return { to: seen && this.rng.next() < 0.7 ? this.w.hosts[seen.gateway]!.addr : to, msg: { type: 'conflict', transferId: id, locked } };
      }
      case 'certified': return { to, msg: { type: 'certified', certificate: this.certificate(h) } };
      case 'credit-request': return { to, msg: { type: 'credit-request', certificate: this.certificate(h) } };
      case 'receipt': {
        const seen = this.handed.pick(this.rng);
        const c = seen ? { transfer: seen.t, votes: [] } : this.certificate(h);
        return { to: seen && this.rng.next() < 0.7 ? this.w.hosts[seen.gateway]!.addr : to, msg: { type: 'receipt', receipt: this.receipt(h, c) } };
      }
      case 'store': return { to, msg: { type: 'store', bundle: this.bundle(h), ack: this.rng.next() < 0.5 } };
      case 'stored': {
        // Spoofed: "stored" to the gateway of a transfer in flight, with nothing stored.
        const seen = this.handed.pick(this.rng);
        if (!seen) return null;
        return { to: this.rng.next() < 0.8 ? this.w.hosts[seen.gateway]!.addr : to, msg: { type: 'stored', transferId: transferId(seen.t) } };
      }
      case 'lookup': return { to, msg: { type: 'lookup', transferId: this.someId(h) } };
      case 'lookup-reply': {
        // Unasked, or for an id a node may be looking up: no bundle, or a forged one.
        const id = this.someId(h);
        const b = this.rng.next() < 0.3 ? null : this.bundle(h);
        return { to, msg: { type: 'lookup-reply', transferId: id, bundle: b } };
      }
      case 'account-pull': return { to, msg: { type: 'account-pull', account: this.rng.next() < 0.7 ? this.randomWallet() : this.bytes32(), epoch: this.someEpoch(h) } };
      case 'account-state': {
        const head = this.transfer(h);
        const account = this.rng.next() < 0.7 ? head.from : this.randomWallet();
        const credited = BigInt(this.rng.int(1 << 30));
        return {
          to, msg: {
            type: 'account-state', epoch: this.someEpoch(h),
            state: {
              account, frozen: this.rng.next() < 0.2, seq: head.seq, head, certificate: this.rng.next() < 0.5 ? this.certificate(h) : null, recent: [],
              debited: head.amount, credited, credits: [{ transferId: this.bytes32(), amount: credited }], more: this.rng.next() < 0.2,
            },
          },
        };
      }
      case 'digest': {
        const entries: { key: Bytes; hash: Bytes }[] = [];
        const n = 1 + this.rng.int(16);
        const accounts = this.rng.next() < 0.5;
        for (let i = 0; i < n; i++) entries.push({ key: accounts ? (this.rng.next() < 0.5 ? this.randomWallet() : this.bytes32()) : this.someId(h), hash: this.bytes32() });
        return { to, msg: { type: 'digest', digest: { kind: accounts ? 'accounts' : 'bundles', epoch: this.someEpoch(h), entries } } };
      }
      case 'epoch': return { to, msg: { type: 'epoch', record: this.epochRecord(h) } };
      case 'alert': {
        const t1 = this.transfer(h);
        const t2 = this.transfer(h);
        const notice = { evidence: { kind: 'double-spend' as const, t1, t2 }, reporter: h.id, sig: this.rng.bytes(64) };
        return { to, msg: { type: 'alert', alert: { notice, alertSeq: this.rng.int(1000), sig: this.rng.bytes(64) } } };
      }
      case 'repudiation':
        return { to, msg: { type: 'repudiation', repudiation: { noticeHash: this.bytes32(), reason: 'no', reporter: h.id, sig: this.rng.bytes(64) } } };
    }
  }
}
