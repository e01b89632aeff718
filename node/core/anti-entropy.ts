// Anti-entropy (protocol.md §7, Anti-entropy): replicas of an account, and of a bundle, periodically
// swap digests; where they differ, each side sends its state (or asks for the
// bundle) and the monotone merge of handoff.ts repairs the gap.
import { equal, fromHex, type Bytes } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import { MAX_DIGEST_ENTRIES, type Digest } from '../../protocol/handoff-codec.ts';
import type { Custodian } from './custodian.ts';
import type { Account } from './account.ts';
import type { Handoff } from './handoff.ts';
import type { Storage } from './storage.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import { Memo } from '../../protocol/memo.ts';

/**
 * Bundles stored before the last round that one round names again (beyond those new
 * since it): four digest messages' worth, so a store of up to 3,840 bundles is fully
 * compared every round, and a larger one over ceil(n / 3,840) rounds (a million in
 * ~261 rounds, ~2 h at the default 30 s) at a bounded cost per round.
 */
export const MAX_SWEPT_BUNDLES_PER_ROUND = 4 * MAX_DIGEST_ENTRIES;

/** Unchanged accounts one round names again (see accountsThisRound): four digest messages' worth. */
export const MAX_SWEPT_ACCOUNTS_PER_ROUND = 4 * MAX_DIGEST_ENTRIES;

/** The account hash this node last named in a digest, kept on the account. */
const namedHash = new Memo<Bytes>('namedHash');

type Entry = { readonly key: Bytes; readonly hash: Bytes };

/** An account's hash and the state it was taken of (accounts change far less often than digests name them). */
type StateHash = { seq: number; headId: Bytes | null; credited: bigint; frozen: boolean; hash: Bytes };
const stateHash = new Memo<StateHash>('stateHash');
let absentHash: Bytes | undefined;

/** What two replicas of an account must agree on. */
export function accountHash(a: Account | undefined): Bytes {
  if (a === undefined) return (absentHash ??= hashOf(undefined));
  // Every round names each account to k - 1 peers, each of which hashes its own copy:
  // the hash is kept until the state changes (ids are never mutated in place).
  const m = stateHash.get(a);
  if (m !== undefined && m.seq === a.seq && m.headId === a.headId && m.credited === a.credited && m.frozen === a.frozen) return m.hash;
  const hash = hashOf(a);
  if (m === undefined) stateHash.set(a, { seq: a.seq, headId: a.headId, credited: a.credited, frozen: a.frozen, hash });
  else {
    m.seq = a.seq;
    m.headId = a.headId;
    m.credited = a.credited;
    m.frozen = a.frozen;
    m.hash = hash;
  }
  return hash;
}

function hashOf(a: Account | undefined): Bytes {
  const b = new Uint8Array(8 + 32 + 8 + 1);
  const dv = new DataView(b.buffer);
  if (a) {
    dv.setBigUint64(0, BigInt(a.seq));
    if (a.headId) b.set(a.headId, 8);
    dv.setBigUint64(40, a.credited);
    b[48] = a.frozen ? 1 : 0;
  }
  return sha256(b);
}

export class AntiEntropy {
  private readonly ctx: NodeContext;
  private readonly custodian: Custodian;
  private readonly handoff: Handoff;
  private readonly storage: Storage;
  private nextAt: number;
  /** Bundles stored as of the last round: those after it are new to this round. */
  private digested = 0;
  /** Where the sweep over older bundles goes on next round. */
  private sweepAt = 0;
  /** Where the sweep over unchanged accounts goes on next round. */
  private accountSweepAt = 0;
  private firstRound = true;
  /** Per account sent in part: which page of its older credits goes next. */
  private readonly sweepPages = new Map<string, number>();

  constructor(ctx: NodeContext, custodian: Custodian, handoff: Handoff, storage: Storage) {
    this.ctx = ctx;
    this.custodian = custodian;
    this.handoff = handoff;
    this.storage = storage;
    // A random phase, so the replicas of a group do not all speak at once.
    this.nextAt = ctx.now() + Math.floor(ctx.random.next() * ctx.options.antiEntropyMs);
  }

  /** When tick() next runs a round. */
  get nextRoundAt(): number {
    return this.nextAt;
  }

  tick(now: number): void {
    if (now < this.nextAt) return;
    this.nextAt = now + this.ctx.options.antiEntropyMs;
    this.round();
  }

  /** One digest round: to each co-replica, the accounts and bundles we share. */
  round(): void {
    const ctx = this.ctx;
    const ring = ctx.ring;
    const accounts = new Map<string, Entry[]>();
    for (const { account, hash } of this.accountsThisRound()) {
      for (const c of ring.custodians(account)) {
        const h = hexOf(c);
        if (h === ctx.idHex) continue;
        let list = accounts.get(h);
        if (!list) accounts.set(h, (list = []));
        list.push({ key: account, hash });
      }
    }
    this.sendDigests('accounts', accounts);
    const bundles = new Map<string, Entry[]>();
    for (const id of this.bundlesThisRound()) {
      const set = ring.storage(id);
      if (!set.some((n) => ctx.isMe(n))) continue;
      for (const n of set) {
        const h = hexOf(n);
        if (h === ctx.idHex) continue;
        let list = bundles.get(h);
        if (!list) bundles.set(h, (list = []));
        list.push({ key: id, hash: id });
      }
    }
    this.sendDigests('bundles', bundles);
  }

  /**
   * The accounts this round names: those whose state changed since this node last named
   * them, and a slice of the rest that the next rounds continue (all of them while they
   * fit in MAX_SWEPT_ACCOUNTS_PER_ROUND). A quiet account that a peer lacks or differs on
   * is still compared within ceil(n / 3,840) rounds; a round no longer names every
   * account a node holds, however many.
   */
  private accountsThisRound(): { account: Bytes; hash: Bytes }[] {
    const ctx = this.ctx;
    const ring = ctx.ring;
    const sweep = ctx.options.sweptAccountsPerRound ?? MAX_SWEPT_ACCOUNTS_PER_ROUND;
    const eligible: { account: Bytes; a: Account; hash: Bytes }[] = [];
    for (const [hex, a] of this.custodian.accounts) {
      const account = fromHex(hex);
      if (!ring.isCustodian(ctx.id, account) || !this.custodian.isSynced(a, account, hex)) continue;
      eligible.push({ account, a, hash: accountHash(a) });
    }
    const n = eligible.length;
    const whole = n <= sweep;
    const from = whole ? 0 : this.accountSweepAt % n;
    const out: { account: Bytes; hash: Bytes }[] = [];
    for (let i = 0; i < n; i++) {
      const e = eligible[i]!;
      const swept = whole || (i - from + n) % n < sweep;
      const last = namedHash.get(e.a);
      if (!swept && last !== undefined && equal(last, e.hash)) continue;
      namedHash.set(e.a, e.hash);
      out.push(e);
    }
    if (!whole) this.accountSweepAt = (from + sweep) % n;
    return out;
  }

  /**
   * The bundles this round names: every one stored since the last round, and a slice
   * of the older ones that the next rounds continue (all of them while they fit in
   * MAX_SWEPT_BUNDLES_PER_ROUND). A round's digests then grow with the store rate, not
   * with all the store has ever held: naming every bundle every round grew without
   * bound (a day at 500 transfers/s is ~40 M ids per peer per round).
   */
  private bundlesThisRound(): Bytes[] {
    // What a restarted node holds counts as old: it is swept, not named all at once.
    if (this.firstRound) {
      this.firstRound = false;
      this.digested = this.storage.count;
    }
    const sweep = this.ctx.options.sweptBundlesPerRound ?? MAX_SWEPT_BUNDLES_PER_ROUND;
    const old = this.digested;
    const total = this.storage.count;
    this.digested = total;
    let swept: Bytes[];
    if (old <= sweep) swept = this.storage.idsBetween(0, old);
    else {
      const from = this.sweepAt % old;
      const to = from + sweep;
      swept = to <= old ? this.storage.idsBetween(from, to) : [...this.storage.idsBetween(from, old), ...this.storage.idsBetween(0, to - old)];
      this.sweepAt = to % old;
    }
    const fresh = this.storage.idsBetween(old, total);
    return swept.length === 0 ? fresh : fresh.length === 0 ? swept : [...swept, ...fresh];
  }

  private sendDigests(kind: Digest['kind'], byPeer: Map<string, Entry[]>): void {
    const epoch = this.ctx.epoch;
    for (const [peer, entries] of byPeer) {
      for (let i = 0; i < entries.length; i += MAX_DIGEST_ENTRIES) {
        this.ctx.sendHex(peer, { type: 'digest', digest: { kind, epoch, entries: entries.slice(i, i + MAX_DIGEST_ENTRIES) } });
      }
    }
  }

  onDigest(fromHex: string, d: Digest): void {
    const ctx = this.ctx;
    ctx.noteEpoch(d.epoch);
    if (d.epoch !== ctx.epoch) return; // replicas compare within one epoch; handoff covers changes
    const ring = ctx.ring;
    if (d.kind === 'accounts') {
      for (const e of d.entries) {
        if (!ring.isCustodian(ctx.id, e.key)) continue;
        if (!ring.custodians(e.key).some((c) => hexOf(c) === fromHex)) continue;
        const hex = hexOf(e.key);
        const a = this.custodian.accounts.get(hex);
        if (equal(accountHash(a), e.hash)) continue;
        // Both directions: ours to them, theirs to us; the merge keeps the union.
        if (a !== undefined && this.handoff.sentInPart(a)) {
          // A long credit history goes in part, and a pull would fetch the peer's whole
          // one: its own round's digest brings its part instead, as this one brings ours.
          const page = this.sweepPages.get(hex) ?? 0;
          this.sweepPages.set(hex, page + 1);
          this.handoff.sendState(fromHex, e.key, hex, ctx.epoch, page);
          continue;
        }
        if (a) this.handoff.sendState(fromHex, e.key, hex, ctx.epoch);
        ctx.sendHex(fromHex, { type: 'account-pull', account: e.key, epoch: ctx.epoch });
      }
    } else {
      for (const e of d.entries) {
        if (this.storage.has(e.key)) continue;
        if (!ring.storage(e.key).some((n) => ctx.isMe(n))) continue;
        ctx.sendHex(fromHex, { type: 'lookup', transferId: e.key });
      }
    }
  }
}
