// Completion without the gateway (protocol.md §5a): the custodians of the sender that
// persisted a transfer's lock watch it until they hear it finished; one that does not
// hear so in time checks the storage nodes and, finding nothing, drives the transfer to
// the end itself through its own gateway. Once the certificate is out, one of them (the
// keeper) watches on. Watches are soft state (a restarted node has none; its
// co-custodians still hold theirs), keyed by transfer id like every step a take-over
// repeats, so a take-over is a resubmission.
import { equal, type Bytes } from '../../protocol/bytes.ts';
import { checkBundle } from '../../protocol/certificate.ts';
import { MAX_DONE_IDS } from '../../protocol/messages.ts';
import { transferId, type Bundle, type Certificate, type Transfer } from '../../protocol/objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import type { CompletionStats } from './api.ts';
import type { Account } from './account.ts';

/** Transfers one node watches at once; past this new ones are not watched (counted in `dropped`). */
export const MAX_WATCHES = 1 << 16;
/** Gateways remembered per watch: a `done` counts only from one of them. */
const MAX_ASKERS = 4;
/** Take-overs one watcher tries for a transfer before leaving it to the wallet. */
export const MAX_TAKEOVERS = 3;
/** Transfers given up on that are remembered, so another node's take-over does not start the watch again. */
const MAX_GIVEN_UP = 4096;
/**
 * Certified locks per account a restarted custodian looks at again, newest first (it may
 * keep them): as deep as the recent locks a handoff carries. A busy account moves several
 * seqs in the seconds a keeper is down (4 missed a stranded transfer further back, fuzz
 * seed 82); each costs one lookup at its turn, and MAX_WATCHES bounds them all.
 */
export const REWATCH_CERTIFIED = 64;
/** `done` ids are batched per peer for this long (or until a message is full). */
export const DONE_FLUSH_MS = 200;

export type TakeoverPhase = 'voting' | 'crediting';

/** What completion needs of the rest of the node. */
export type CompletionPorts = {
  /** Whether this node stores the transfer's bundle itself. */
  hasBundle(id: Bytes): boolean;
  /** Drive the transfer through this node's gateway (idempotent); returns the phase it starts in, or null if already in hand. */
  takeOver(t: Transfer, cert: Certificate | null): TakeoverPhase | null;
};

type Watch = {
  readonly id: Bytes;
  readonly idHex: string;
  readonly transfer: Transfer;
  cert: Certificate | null;
  /** Take-over order among the sender's custodians (0 first). */
  readonly rank: number;
  /** Last sign of life of a gateway working on it (ms). */
  since: number;
  /** Set once its first check is due (Infinity before): when the next check or take-over falls due. */
  dueAt: number;
  /** What happens at dueAt: ask a storage node for the bundle, or take over (after an unanswered or empty lookup). */
  next: 'check' | 'act';
  /** Lookups sent since the last take-over, and whether a storage node answered that it lacks the bundle. */
  checks: number;
  absent: boolean;
  attempts: number;
  readonly askers: string[];
  live: boolean;
};

export class Completion {
  private readonly ctx: NodeContext;
  private readonly ports: CompletionPorts;
  private readonly watches = new Map<string, Watch>();
  /** Watches in the order they were (re)started (`at`): their first checks fall due in this order. An entry older than its watch's `since` is stale. */
  private queue: { readonly w: Watch; readonly at: number }[] = [];
  private head = 0;
  /** Watches past their first check, waiting for their take-over time (rare: none in a healthy run). */
  private readonly armed = new Set<Watch>();
  /** Finished transfer ids to tell each peer, batched. */
  private readonly outbox = new Map<string, Bytes[]>();
  /** Ids of watches abandoned after MAX_TAKEOVERS (oldest first): never watched again, so take-overs cannot chase each other for ever. */
  private readonly givenUp = new Set<string>();
  private flushAt = Infinity;
  private readonly stats = { takeovers: { voting: 0, crediting: 0 }, abandoned: 0, clearedByDone: 0, clearedHere: 0, dropped: 0 };

  constructor(ctx: NodeContext, ports: CompletionPorts) {
    this.ctx = ctx;
    this.ports = ports;
  }

  private get delay(): number {
    return this.ctx.options.takeoverMs ?? DEFAULT_TAKEOVER_MS;
  }

  /**
   * A gateway (`asker`) has this node's lock of `t` (a vote sent), or told it the
   * certificate (`certified`, a credit request). Starts a watch, or restarts its
   * clock: the gateway is alive and working on it. Once the certificate is out, the
   * credits were requested in the same step: only the keeper watches on, for the store.
   */
  observe(t: Transfer, asker: string | undefined, cert: Certificate | null, id: Bytes = transferId(t)): void {
    const ctx = this.ctx;
    const idHex = hexOf(id);
    let w = this.watches.get(idHex);
    if (cert !== null && w !== undefined && asker !== undefined && asker !== ctx.idHex && !w.askers.includes(asker)) {
      // A certificate from a node that never asked for this vote (a replay, another
      // watcher's take-over) is kept, but neither ends nor delays the watch: the keeper
      // is chosen relative to the gateway that drove the transfer here, and a stranger's
      // choice would end the one watch left when that gateway died.
      if (w.cert === null) w.cert = cert;
      return;
    }
    // Our own take-over's `certified` (looped back) keeps our watch: its attempts stay counted.
    if (cert !== null && asker !== undefined && asker !== ctx.idHex && !this.isKeeper(t, id, asker, cert)) {
      if (w !== undefined) this.drop(w);
      return;
    }
    if (w === undefined) {
      if (this.givenUp.has(idHex)) return;
      const rank = this.rankOf(t, id);
      if (rank < 0) return;
      if (this.watches.size >= MAX_WATCHES) {
        this.stats.dropped++;
        return;
      }
      w = { id, idHex, transfer: t, cert, rank, since: ctx.now(), dueAt: Infinity, next: 'check', checks: 0, absent: false, attempts: 0, askers: [], live: true };
      this.watches.set(idHex, w);
      this.queue.push({ w, at: w.since });
    } else if (w.dueAt === Infinity && w.since !== ctx.now()) {
      w.since = ctx.now();
      this.queue.push({ w, at: w.since });
    }
    if (cert !== null && w.cert === null) w.cert = cert;
    if (asker !== undefined && asker !== ctx.idHex && !w.askers.includes(asker)) {
      if (w.askers.length >= MAX_ASKERS) w.askers.shift();
      w.askers.push(asker);
    }
  }

  /** The sender's custodians in take-over order: ring order rotated by the transfer id, so one node does not take every take-over of an account. */
  private order(t: Transfer, id: Bytes): readonly Bytes[] {
    const from = this.ctx.ring.custodians(t.from);
    const turn = id[0]! % from.length;
    return [...from.slice(turn), ...from.slice(0, turn)];
  }

  /** This node's take-over rank; -1 when it is not a custodian of the sender. */
  private rankOf(t: Transfer, id: Bytes): number {
    return this.order(t, id).findIndex((c) => this.ctx.isMe(c));
  }

  /**
   * The custodians that watch a certified transfer until it is stored (one, or two):
   * the first in take-over order that is not its gateway (whose death it guards
   * against), one of the bundle's storage nodes if any is (it sees the store itself, no
   * `done` needed); and, if that one's vote is not in the certificate (it may have been
   * down, and then watches nothing), the same choice among the custodians whose votes are.
   */
  keepersOf(t: Transfer, id: Bytes, gateway: string, cert: Certificate | null): Bytes[] {
    const storage = new Set(this.ctx.ring.storage(id).map(hexOf));
    const pick = (order: readonly Bytes[]): Bytes | undefined => order.find((c) => storage.has(hexOf(c))) ?? order[0];
    const order = this.order(t, id).filter((c) => hexOf(c) !== gateway);
    const first = pick(order)!;
    if (cert === null) return [first];
    const voters = new Set(cert.votes.map((v) => hexOf(v.voter)));
    if (voters.has(hexOf(first))) return [first];
    const voter = pick(order.filter((c) => voters.has(hexOf(c))));
    return voter === undefined ? [first] : [first, voter];
  }

  private isKeeper(t: Transfer, id: Bytes, gateway: string, cert: Certificate | null): boolean {
    return this.keepersOf(t, id, gateway, cert).some((c) => this.ctx.isMe(c));
  }

  /**
   * After a restart, one account's locks: a head never heard certified is watched again
   * (its gateway may have died with this node), as if its vote had just been given; so
   * is each of the newest certified locks whose bundle this node lacks (gateway and
   * keeper may have died together, before the store, while the account moved on). Not
   * only where this node may be the keeper: it may have been the gateway itself, which
   * is never its own keeper, while the one keeper lost its disk (fuzz seed 150 I9).
   */
  restored(a: Account): void {
    if (a.head === null) return;
    if (a.seq > a.certifiedSeq) this.observe(a.head, undefined, null, a.headId ?? undefined);
    const low = Math.max(a.lockBase, a.certifiedSeq - REWATCH_CERTIFIED + 1, 1);
    for (let seq = Math.min(a.certifiedSeq, a.seq); seq >= low; seq--) {
      const t = a.locks[seq - a.lockBase];
      if (t === undefined) continue;
      const id = seq === a.seq && a.headId !== null ? a.headId : transferId(t);
      if (this.ports.hasBundle(id)) continue;
      const cert = a.cert !== null && a.cert.transfer.seq === seq && equal(transferId(a.cert.transfer), id) ? a.cert : null;
      this.observe(t, undefined, cert, id);
    }
  }

  /** A peer says these transfers are finished; believed only from a gateway that drove them here. */
  onDone(fromHex: string, ids: readonly Bytes[]): void {
    for (const id of ids) {
      const w = this.watches.get(hexOf(id));
      if (w === undefined || !w.askers.includes(fromHex)) continue;
      this.stats.clearedByDone++;
      this.drop(w);
    }
  }

  /** This node learned the transfer finished (its gateway finished it, or it stored the bundle). */
  finishedHere(id: Bytes): void {
    const w = this.watches.get(hexOf(id));
    if (w === undefined) return;
    this.stats.clearedHere++;
    this.drop(w);
  }

  /**
   * This node's gateway finished a transfer: tell the watchers that would not see it.
   * Stored: the keeper, unless it stores the bundle itself. Rejected or conflict: every
   * custodian of the sender (those that locked it watch it).
   */
  tellFinished(t: Transfer, id: Bytes, stored: boolean, cert: Certificate | null = null): void {
    this.finishedHere(id);
    const ctx = this.ctx;
    const peers: string[] = [];
    if (stored) {
      for (const k of this.keepersOf(t, id, ctx.idHex, cert)) {
        const keeper = hexOf(k);
        if (!ctx.ring.storage(id).some((n) => hexOf(n) === keeper)) peers.push(keeper);
      }
    } else {
      for (const c of ctx.ring.custodians(t.from)) peers.push(hexOf(c));
    }
    for (const p of peers) {
      if (p === ctx.idHex) continue;
      let ids = this.outbox.get(p);
      if (ids === undefined) this.outbox.set(p, (ids = []));
      ids.push(id);
      if (ids.length >= MAX_DONE_IDS) this.send(p, ids);
    }
    if (this.flushAt === Infinity && this.outbox.size > 0) this.flushAt = ctx.now() + DONE_FLUSH_MS;
  }

  /**
   * A storage node's answer to a watcher's check: a bundle that holds ends the watch.
   * Found late, it may be the one copy a dying gateway kept (it stores its own copy
   * before sending `store`): it goes to every storage node again, unacknowledged (a
   * copy already held is not stored twice).
   */
  onLookupReply(id: Bytes, bundle: Bundle | null): void {
    const w = this.watches.get(hexOf(id));
    if (w === undefined) return;
    if (bundle === null) {
      w.absent = true;
      return;
    }
    if (!equal(transferId(bundle.certificate.transfer), w.id)) return;
    try {
      checkBundle(bundle, this.ctx.check);
    } catch {
      return;
    }
    this.stats.clearedHere++;
    this.drop(w);
    const ctx = this.ctx;
    for (const n of ctx.ring.storage(w.id)) if (!ctx.isMe(n)) ctx.sendTo(n, { type: 'store', bundle, ack: false });
  }

  private send(peer: string, ids: Bytes[]): void {
    this.outbox.delete(peer);
    // Distinct ids only: a transfer finished twice here in one batch is named once.
    const seen = new Set<string>();
    const unique = ids.filter((id) => {
      const h = hexOf(id);
      if (seen.has(h)) return false;
      seen.add(h);
      return true;
    });
    this.ctx.sendHex(peer, { type: 'done', transferIds: unique });
  }

  private drop(w: Watch): void {
    w.live = false;
    this.watches.delete(w.idHex);
    this.armed.delete(w);
  }

  tick(now: number): void {
    if (this.flushAt <= now) {
      for (const [peer, ids] of [...this.outbox]) this.send(peer, ids);
      this.flushAt = Infinity;
    }
    const delay = this.delay;
    // First checks, in start order: a watch not finished by then waits for its turn.
    while (this.head < this.queue.length) {
      const { w, at } = this.queue[this.head]!;
      if (w.live && at === w.since && at + delay > now) break;
      this.head++;
      if (!w.live || at !== w.since || w.dueAt !== Infinity) continue;
      w.dueAt = w.since + delay + w.rank * (delay / 2);
      this.armed.add(w);
    }
    this.compact();
    for (const w of this.armed) if (w.dueAt <= now) this.due(w, now);
  }

  /** A watch's turn: look for the bundle first (here, then at a storage node); take over only if it is not found. */
  private due(w: Watch, now: number): void {
    const ctx = this.ctx;
    if (this.ports.hasBundle(w.id)) {
      this.stats.clearedHere++;
      this.drop(w);
      return;
    }
    // An unanswered lookup (a lost message, a storage node down) is asked again, of the
    // next storage node, before a take-over: only a "not here" or two silences count.
    if (w.next === 'check' || (!w.absent && w.checks < 2)) {
      const others = ctx.ring.storage(w.id).filter((n) => !ctx.isMe(n));
      if (others.length > 0) ctx.sendTo(others[w.checks % others.length]!, { type: 'lookup', transferId: w.id });
      w.checks++;
      w.next = 'act';
      w.dueAt = now + ctx.options.retryMs;
      return;
    }
    if (w.attempts >= MAX_TAKEOVERS) {
      // Left to the wallet, which resubmits as is (protocol.md §5).
      this.stats.abandoned++;
      this.drop(w);
      if (this.givenUp.size >= MAX_GIVEN_UP) this.givenUp.delete(this.givenUp.values().next().value!);
      this.givenUp.add(w.idHex);
      return;
    }
    w.attempts++;
    w.next = 'check';
    w.checks = 0;
    w.absent = false;
    // Each try waits twice as long as the last before the next.
    w.dueAt = now + delay2(this.delay, w.attempts);
    const phase = this.ports.takeOver(w.transfer, w.cert);
    if (phase === null) return;
    this.stats.takeovers[phase]++;
    ctx.emit({ type: 'takeover', transferId: w.id, phase });
  }

  /**
   * Drops the queue's passed entries (each holds its watch, transfer and certificate)
   * once they are half of it: a node with few watches in flight, whose ticks are rare,
   * must not keep every watch it ever started.
   */
  private compact(): void {
    if (this.head === 0) return;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** The earliest time tick() has work: a batch of `done` to send, a first check or a take-over. */
  nextWakeupAt(): number {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (e.w.live && e.at === e.w.since && e.w.dueAt === Infinity) break;
      this.head++;
    }
    this.compact();
    let at = this.flushAt;
    if (this.head < this.queue.length) at = Math.min(at, this.queue[this.head]!.at + this.delay);
    for (const w of this.armed) if (w.dueAt < at) at = w.dueAt;
    return at;
  }

  get counts(): CompletionStats {
    const s = this.stats;
    return { watching: this.watches.size, takeovers: { ...s.takeovers }, abandoned: s.abandoned, clearedByDone: s.clearedByDone, clearedHere: s.clearedHere, dropped: s.dropped, queued: this.queue.length };
  }
}

/** The wait after take-over n (1, 2, ...): twice the last. */
function delay2(delay: number, n: number): number {
  return delay * 2 ** n;
}

/** A watch's first check, after its gateway's last sign of life (NodeOptions.takeoverMs). */
export const DEFAULT_TAKEOVER_MS = 10_000;
