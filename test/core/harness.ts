// The unit tests' cluster: node machines on an in-memory message queue with a virtual
// clock, built from the simulator's parts (its seeded Prng, the real MintMachine,
// MemoryStores applied before sends, as every driver must), with optional faults
// (reorder, duplicate, drop, crash-restore, a Byzantine voter). The simulator (sim/)
// runs the same machines at scale on a virtual network with latency; this harness
// steps them one message at a time, so a test can hold, drop or reorder any message.
//
// The mint is the real MintMachine: it verifies notices and relays alerts, and signs
// issuances. Tests choose each epoch's members directly (newEpoch): the record is
// signed with the mint key and written to the mint's log, and the mint is restarted
// from its store (its real restore path), so its ring follows.
import { createGenesis } from '../../mint/core/genesis-create.ts';
import { toHex, utf8, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import { decodeMessage, encodeMessage, type Message } from '../../protocol/messages.ts';
import {
  EpochCodec, NoticeCodec, TransferCodec, VoteCodec, epochHash, sign, transferId, verify,
  type Alert, type EpochRecord, type Notice, type Transfer,
} from '../../protocol/objects.ts';
import { MemoryStore, type Address, type Output } from '../../protocol/ports.ts';
import type { NodeEvent, NodeOptions } from '../../node/core/api.ts';
import { NodeMachine } from '../../node/core/node-machine.ts';
import { fastScheme, type SignatureScheme, type Signer } from '../../protocol/signature.ts';
import { sortMembers } from '../../mint/core/genesis-create.ts';
import { Ring } from '../../protocol/ring.ts';
import { MintMachine } from '../../mint/core/mint-machine.ts';
import type { MintEvent } from '../../mint/core/api.ts';
import { entryRecord, LOG_PREFIX } from '../../mint/core/mint-log.ts';
import { Prng } from '../../sim/prng.ts';

export const NETWORK = 'testnet';

/** The simulator's seeded generator (sim/prng.ts): test schedules replay from their seed. */
export { Prng as Rng };

export function secret(label: string): Bytes {
  const b = new Uint8Array(32);
  b.set(utf8(label).subarray(0, 32));
  return b;
}

export type Faults = {
  /** Deliver in random order rather than FIFO. */
  readonly reorder?: boolean;
  /** Chance each node-to-node message is delivered twice. */
  readonly duplicate?: number;
  /** Chance each node-to-node message is lost. */
  readonly drop?: number;
};

export type HarnessOptions = {
  readonly nodes: number;
  readonly k?: number;
  readonly q?: number;
  readonly scheme?: SignatureScheme;
  readonly seed?: number;
  readonly supplyCap?: bigint | null;
  /** Node indexes that vote for anything without locking. */
  readonly byzantine?: readonly number[];
  /** Encode and decode every message, as on a real wire. */
  readonly wire?: boolean;
  /** After each step of a node, a copy rebuilt from its store is handed here with the live one (durable restore). */
  readonly checkRestore?: (hex: string, live: NodeMachine, rebuilt: NodeMachine) => void;
  readonly faults?: Faults;
  readonly options?: Partial<NodeOptions>;
  /** Machines keep their whole history in memory (no records reader), as the simulator runs them. */
  readonly historyInMemory?: boolean;
  /** Extra nodes created but not in epoch 0 (they join through newEpoch). */
  readonly spare?: number;
};

type Queued = { from: Address; to: string; msg: Message };

export class Harness {
  readonly genesis: Genesis;
  readonly scheme: SignatureScheme;
  readonly mint: Signer;
  readonly signers: Signer[] = [];
  readonly nodes = new Map<string, NodeMachine>();
  readonly stores = new Map<string, MemoryStore>();
  readonly byzantine = new Set<string>();
  readonly events: { node: string; event: NodeEvent }[] = [];
  readonly alerts: Alert[] = [];
  readonly notices: Notice[] = [];
  readonly epochs: EpochRecord[] = [];
  readonly rng: Prng;
  /** The real mint machine and its store. */
  mintMachine: MintMachine;
  readonly mintStore = new MemoryStore();
  now = 1_000;
  private queue: Queued[] = [];
  /** FIFO read position in `queue` (shift() is O(n)). */
  private head = 0;
  private readonly opts: HarnessOptions;
  /** Nodes that are down: messages to them are lost. */
  readonly down = new Set<string>();
  delivered = 0;
  /** Messages matching this are set aside (delayed) in `held` instead of queued; `release` queues them. */
  holdIf: ((from: Address, to: string, msg: Message) => boolean) | undefined;
  readonly held: Queued[] = [];

  constructor(opts: HarnessOptions) {
    this.opts = opts;
    this.scheme = opts.scheme ?? fastScheme;
    this.rng = new Prng(opts.seed ?? 1);
    this.mint = this.scheme.signer(secret('mint'));
    const total = opts.nodes + (opts.spare ?? 0);
    for (let i = 0; i < total; i++) this.signers.push(this.scheme.signer(secret(`node-${i}`)));
    this.genesis = createGenesis({
      network: NETWORK, mint: this.mint, members: this.signers.slice(0, opts.nodes).map((s) => s.publicKey),
      k: opts.k ?? 4, q: opts.q ?? 3, supplyCap: opts.supplyCap ?? null, issuedAt: 0,
    });
    this.epochs.push(this.genesis.epoch0);
    this.mintMachine = this.buildMint();
    for (const [i, s] of this.signers.entries()) {
      const hex = toHex(s.publicKey);
      if (opts.byzantine?.includes(i)) this.byzantine.add(hex);
      this.stores.set(hex, new MemoryStore());
      this.nodes.set(hex, this.build(s));
    }
  }

  private buildMint(): MintMachine {
    return new MintMachine({ genesis: this.genesis, signer: this.mint, scheme: this.scheme, clock: { now: () => this.now }, restore: this.mintStore });
  }

  private build(s: Signer): NodeMachine {
    const hex = toHex(s.publicKey);
    return new NodeMachine({
      genesis: this.genesis, signer: s, scheme: this.scheme, clock: { now: () => this.now }, random: new Prng(this.signers.indexOf(s) + 7),
      restore: this.stores.get(hex),
      // As a daemon runs: history read back from the store, not kept in memory (unless the test asks).
      records: this.opts.historyInMemory === true ? undefined : this.stores.get(hex),
      options: { retryMs: 500, maxRetries: 50, antiEntropyMs: 5_000, ...(this.opts.options ?? {}) },
    });
  }

  nodeHex(i: number): string {
    return toHex(this.signers[i]!.publicKey);
  }
  node(i: number): NodeMachine {
    return this.nodes.get(this.nodeHex(i))!;
  }

  /** Rebuilds a node from its store: a crash and restart. */
  restart(hex: string): NodeMachine {
    const s = this.signers.find((x) => toHex(x.publicKey) === hex)!;
    const m = this.build(s);
    this.nodes.set(hex, m);
    return m;
  }

  take(hex: string, out: Output<NodeEvent>): void {
    this.stores.get(hex)!.apply(out.persist);
    for (const e of out.events) this.events.push({ node: hex, event: e });
    for (const o of out.send) {
      const from: Address = { node: hex };
      if ('node' in o.to) this.enqueue(from, o.to.node, o.msg);
      else if ('mint' in o.to) this.toMint(o.msg, from);
      else for (const n of this.nodes.keys()) this.enqueue(from, n, o.msg);
    }
    if (this.opts.checkRestore) {
      const s = this.signers.find((x) => toHex(x.publicKey) === hex)!;
      this.opts.checkRestore(hex, this.nodes.get(hex)!, this.build(s));
    }
  }

  private enqueue(from: Address, to: string, msg: Message): void {
    const f = this.opts.faults;
    const fromNode = 'node' in from;
    if (fromNode && f?.drop && this.rng.next() < f.drop) return;
    const m = this.opts.wire ? decodeMessage(NETWORK, encodeMessage(msg)) : msg;
    if (this.holdIf?.(from, to, m)) {
      this.held.push({ from, to, msg: m });
      return;
    }
    this.queue.push({ from, to, msg: m });
    if (fromNode && f?.duplicate && this.rng.next() < f.duplicate) this.queue.push({ from, to, msg: m });
  }

  /** A message to the mint: its step's records are applied to its store, its sends routed, its alerts kept. */
  private toMint(msg: Message, from: Address): void {
    // Every notice with a good signature, whatever the mint then decides of it.
    if (msg.type === 'notice' && verify(NoticeCodec, NETWORK, this.scheme, msg.notice.reporter, msg.notice)) this.notices.push(msg.notice);
    this.takeMint(this.mintMachine.receive(from, msg));
  }

  private takeMint(out: Output<MintEvent>): void {
    this.mintStore.apply(out.persist);
    for (const e of out.events) if (e.type === 'alert') this.alerts.push(e.alert);
    for (const o of out.send) {
      if ('node' in o.to) this.enqueue({ mint: true }, o.to.node, o.msg);
      else if ('broadcast' in o.to) this.broadcast(o.msg);
    }
  }

  /** Queues the held messages that match (all by default); drops them instead when `lose`. */
  release(match: (from: Address, to: string, msg: Message) => boolean = () => true, lose = false): number {
    let n = 0;
    for (let i = 0; i < this.held.length; ) {
      const q = this.held[i]!;
      if (!match(q.from, q.to, q.msg)) {
        i++;
        continue;
      }
      this.held.splice(i, 1);
      if (!lose) this.queue.push(q);
      n++;
    }
    return n;
  }

  broadcast(msg: Message): void {
    for (const n of this.nodes.keys()) this.enqueue({ mint: true }, n, msg);
  }

  /** The mint signs and relays the next epoch with these members (indexes into signers). */
  newEpoch(memberIdx: readonly number[], relay = true): EpochRecord {
    const prev = this.epochs[this.epochs.length - 1]!;
    const record = sign(EpochCodec, NETWORK, this.mint, {
      network: NETWORK, epoch: prev.epoch + 1, members: sortMembers(memberIdx.map((i) => this.signers[i]!.publicKey)),
      k: prev.k, q: prev.q, prev: epochHash(prev), issuedAt: this.now,
    });
    this.epochs.push(record);
    // Into the mint's log, and the mint restarted from it: its ring is now this epoch's.
    const logged = [...this.mintStore.entries(LOG_PREFIX)].length;
    this.mintStore.apply([entryRecord(logged + 1, { kind: 'epoch', record })]);
    this.mintMachine = this.buildMint();
    if (relay) this.broadcast({ type: 'epoch', record });
    return record;
  }

  /** A wallet's transfer. */
  transfer(from: Signer, to: Bytes, amount: bigint, seq: number, prev: Bytes = ZERO32, memo = new Uint8Array(0)): Transfer {
    return sign(TransferCodec, NETWORK, from, { from: from.publicKey, to, amount, seq, prev, memo });
  }

  submit(gateway: number | string, t: Transfer): void {
    const hex = typeof gateway === 'number' ? this.nodeHex(gateway) : gateway;
    this.take(hex, this.nodes.get(hex)!.submit(t));
  }

  /** Hand one message to its node; a Byzantine node votes for any transfer without locking. */
  private deliver(q: Queued): void {
    this.delivered++;
    if (this.down.has(q.to)) return;
    const node = this.nodes.get(q.to);
    if (!node) return;
    if (this.byzantine.has(q.to) && q.msg.type === 'vote-request' && 'node' in q.from) {
      const t = q.msg.transfer;
      const s = this.signers.find((x) => toHex(x.publicKey) === q.to)!;
      const vote = sign(VoteCodec, NETWORK, s, { transferId: transferId(t), from: t.from, seq: t.seq, epoch: node.currentEpoch().epoch, voter: s.publicKey });
      this.enqueue({ node: q.to }, q.from.node, { type: 'vote', vote });
      return;
    }
    this.take(q.to, node.receive(q.from, q.msg));
  }

  /** Delivers until the queue is empty (or `max` messages), ticking the clock as it goes. */
  run(max = 1_000_000): number {
    let n = 0;
    while (this.queue.length > this.head && n < max) {
      let q: Queued;
      if (this.opts.faults?.reorder) {
        if (this.head > 0) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        const i = this.rng.int(this.queue.length);
        q = this.queue[i]!;
        this.queue[i] = this.queue[this.queue.length - 1]!;
        this.queue.pop();
      } else {
        q = this.queue[this.head++]!;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
      this.deliver(q);
      n++;
    }
    return n;
  }

  tick(ms = 100): void {
    this.now += ms;
    for (const [hex, node] of this.nodes) if (!this.down.has(hex)) this.take(hex, node.tick());
  }

  /** Runs and ticks until quiet: retries and anti-entropy get their chance. */
  settle(rounds = 40, ms = 600): void {
    for (let i = 0; i < rounds; i++) {
      this.run();
      this.tick(ms);
    }
    this.run();
  }

  /** An issuance by the mint, handed to `gateway` (the test's choice, not the mint's). Returns the transfer. */
  issue(to: Bytes, amount: bigint, gateway = 0): Transfer {
    const { transfer, output } = this.mintMachine.issue(to, amount);
    this.mintStore.apply(output.persist);
    this.submit(gateway, transfer);
    return transfer;
  }

  /**
   * The mint account's next transfer signed with the mint key but not through the
   * mint machine (which would refuse it, e.g. past the supply cap): what custodians do
   * with it on their own. Handed to `gateway`.
   */
  signIssuance(to: Bytes, amount: bigint, gateway = 0): Transfer {
    const done = this.mintMachine.issued();
    const last = done[done.length - 1];
    const t = this.transfer(this.mint, to, amount, done.length + 1, last ? transferId(last) : ZERO32);
    this.submit(gateway, t);
    return t;
  }

  /** Wallets named `names`, each issued `amount` (gateways in turn), with the queue run until quiet. */
  fund(amount: bigint, ...names: string[]): Signer[] {
    const ws = names.map((n) => this.scheme.signer(secret(n)));
    ws.forEach((w, i) => this.issue(w.publicKey, amount, i % this.genesis.epoch0.members.length));
    this.run();
    return ws;
  }

  /** One step on one node with a message from `fromHex` (default: node `from`), outside the queue. */
  ask(to: number | string, msg: Message, from: Address = { node: this.nodeHex(this.signers.length - 1) }): Output<NodeEvent> {
    const hex = typeof to === 'number' ? this.nodeHex(to) : to;
    const out = this.nodes.get(hex)!.receive(from, msg);
    this.stores.get(hex)!.apply(out.persist);
    return out;
  }

  /** The first node (hex) not in `excluded`: a gateway or observer outside some group. */
  outside(excluded: readonly string[]): string {
    return [...this.nodes.keys()].find((n) => !excluded.includes(n))!;
  }

  /** Index of a node by hex. */
  indexOf(hex: string): number {
    return this.signers.findIndex((s) => toHex(s.publicKey) === hex);
  }

  pending(): number {
    return this.queue.length - this.head;
  }

  /** The gateway view of a transfer submitted at `gateway`. */
  status(gateway: number, t: Transfer): string | undefined {
    return this.node(gateway).transfer(transferId(t))?.status;
  }

  /** Current-epoch custodians (hex) of an account. */
  custodiansOf(account: Bytes, epoch?: number): string[] {
    const e = this.epochs[epoch ?? this.epochs.length - 1]!;
    return ringCustodians(e, account);
  }
}

export function ringCustodians(e: EpochRecord, account: Bytes): string[] {
  return new Ring(e).custodians(account).map(toHex);
}
