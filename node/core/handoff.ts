// Handoff of custody at an epoch change (protocol.md §7). Old custodians push each
// account's state to the members that newly became its custodians; a new custodian
// that lacks an account answers NOT_SYNCED, pulls it from the old custodians and
// merges. It votes for the account only once q old custodians have answered (all the
// others, where it is one of k = q old custodians itself; see oldAnswered).
//
// One reporter may be Byzantine, so nothing a single peer says is taken on trust:
// a credit is applied when f + 1 = k - q + 1 distinct reporters of one group list it
// (one of them honest; at least 2 where k > 1, see threshold); a head with its debit
// total is adopted when f + 1 reporters agree on it (a replica a few seqs behind agrees on a point of its recent locks), or
// when its certificate proves it and its chain links to the head held here; a
// certified lock replaces a conflicting one; transfers reported above the head are
// pinned, so a rival at their seq is answered `conflict`, not voted for. Merging is
// monotone, so pushes, pulls and anti-entropy repairs may come in any order. What a
// replica sends of its own accounts (pages, answers to pulls) is account-states.ts.
import { equal, fromHex, toHex, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import { transferId, type Bundle, type Transfer } from '../../protocol/objects.ts';
import type { AccountState } from '../../protocol/handoff-codec.ts';
import type { Custodian } from './custodian.ts';
import type { Account } from './account.ts';
import { Keys } from './record-keys.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import { agreed, chainOf, heard, isEmpty, newPool, threshold, type Pool, type Pools } from './handoff-pool.ts';
import { LoneCredits } from './lone-credits.ts';
import { AccountStates, checkState } from './account-states.ts';
import { CreditProofs, MAX_PROOFS_PER_STATE, type Proved } from './credit-proof.ts';

/** Accounts with reports kept at once; past this the oldest are forgotten (a pull asks again). */
const MAX_TRACKED_ACCOUNTS = 1 << 16;
/** Accounts with a pull in its retry interval; past this the oldest is forgotten (it may be pulled again sooner). */
const MAX_OPEN_PULLS = 1 << 14;
/**
 * Accounts found empty (q old custodians reported nothing) and synced without an entry
 * in the custodian's map: any key can be named in a vote request, and an entry each would
 * grow without bound. Past this the oldest is forgotten (a vote request pulls it again).
 */
const MAX_EMPTY_SYNCED = 1 << 14;
/** Pins per account: more than a few means a cheater; the first ones already block rivals. */
const MAX_PINS = 16;
/** A pull begun within this many retry intervals counts as in progress (readiness). */
const SYNCING_RETRIES = 10;
/** The value of an `r/<account>` record (its presence is what counts). */
const RESYNCED = new Uint8Array([1]);

export class Handoff {
  private readonly ctx: NodeContext;
  private readonly custodian: Custodian;
  /** Account hex -> when this node last pulled it, at which epoch. */
  private readonly pulls = new Map<string, { epoch: number; at: number }>();
  private readonly pools = new Map<string, Pools>();
  /** This replica's own account states: sent in pages, answers to pulls, snapshot records (account-states.ts). */
  private readonly own: AccountStates;
  /** Each reporter's credits that no other reporter lists yet, under a budget (lone-credits.ts). */
  readonly lone = new LoneCredits();
  /**
   * Restored from a backup (record-keys.ts RESTORED_KEY): an account counts as synced
   * only once it is in `resynced`, i.e. min(q, custodians - 1) current co-custodians
   * answered a pull in full and f + 1 of them agree on a head (merged here, pins
   * included), so a lock this node made after the backup, and forgot, is known again
   * wherever its co-custodians hold it.
   */
  restored = false;
  /** Accounts re-synced since the restore; bounded by the accounts this node holds (one `r/` record each). */
  readonly resynced = new Set<string>();
  /** Account hex -> the epoch it was found empty and synced at (see MAX_EMPTY_SYNCED). */
  private readonly emptySynced = new Map<string, number>();
  /** Credits fewer than f + 1 reporters list, looked up for their bundles (credit-proof.ts). */
  readonly proofs: CreditProofs;
  /** The account whose entry merge is making (its own onEntry would merge it twice). */
  private merging: string | null = null;

  constructor(ctx: NodeContext, custodian: Custodian) {
    this.ctx = ctx;
    this.custodian = custodian;
    this.proofs = new CreditProofs(ctx);
    this.own = new AccountStates(ctx, custodian);
    custodian.isSynced = (a, account, hex) => this.isSynced(a, account, hex);
    custodian.needSync = (account, hex) => this.pull(account, hex);
    custodian.onEntry = (hex) => this.onEntry(hex);
  }

  /**
   * Whether this replica holds the account's whole state now: it was synced at an
   * epoch (a merge of q old custodians' reports, recorded in its snapshot) and has
   * been a custodian of the account in every epoch since; at epoch 0 every account
   * is empty, so every custodian is synced. Being a custodian in the previous epoch
   * counts only through this chain: a custodian that never synced then is not synced now.
   */
  isSynced(a: Account | undefined, account: Bytes, hex: string): boolean {
    const ctx = this.ctx;
    const cur = ctx.epoch;
    // Found empty by the reports a synced replica needs (onState; after a restore, the co-custodians' too).
    if (this.emptySynced.get(hex) === cur) {
      if (a !== undefined && a.syncedEpoch < cur) a.syncedEpoch = cur;
      return true;
    }
    if (this.restored && !this.resynced.has(hex) && this.peersOf(account).length > 0) return false;
    if (a !== undefined && a.syncedEpoch >= cur) return true;
    for (let e = cur; ; e--) {
      if (a !== undefined && a.syncedEpoch >= e) break;
      if (e === 0) break;
      if (!ctx.ringOf(e - 1)!.isCustodian(ctx.id, account)) return false;
    }
    if (a !== undefined) a.syncedEpoch = cur;
    return true;
  }

  /** Asks the previous epoch's custodians for the account (at most once per retry interval). */
  pull(account: Bytes, hex: string): void {
    const ctx = this.ctx;
    const cur = ctx.epoch;
    const now = ctx.now();
    const p = this.pulls.get(hex);
    if (p && p.epoch === cur && now < p.at + ctx.options.retryMs) return;
    this.pulls.delete(hex);
    this.pulls.set(hex, { epoch: cur, at: now });
    const targets = new Set<string>();
    const pools = this.pools.get(hex);
    if (this.pulls.size > MAX_OPEN_PULLS) this.pulls.delete(this.pulls.keys().next().value!);
    const prev = ctx.ringOf(cur - 1);
    const got = pools?.old;
    if (prev) for (const c of prev.custodians(account)) if (!(got?.epoch === cur && got.finished.has(hexOf(c)))) targets.add(hexOf(c));
    // Restored from a backup: the current co-custodians hold what this node may have forgotten.
    if (this.restored && !this.resynced.has(hex)) for (const h of this.peersOf(account)) if (!(pools?.peer?.epoch === cur && pools.peer.finished.has(h))) targets.add(h);
    targets.delete(ctx.idHex);
    for (const h of targets) ctx.sendHex(h, { type: 'account-pull', account, epoch: cur });
  }

  /**
   * Whether enough old custodians answered in full, and f + 1 of them agree on a head:
   * q of them, or all the others where this node is one of the k = q old custodians
   * (its own state is no report). Such a node was not synced in the old epoch (else it
   * still would be), so it voted for nothing there and no q-vote certificate of that
   * epoch could form without it at k = q; q answers it can never get (protocol.md §7 Synced).
   */
  private oldAnswered(old: Pool, account: Bytes): boolean {
    const others = old.ring.custodians(account).filter((c) => !equal(c, this.ctx.id)).length;
    return old.finished.size >= Math.min(old.ring.q, others) && agreed(old) !== null;
  }

  /** Whether this node was a custodian of the account in every epoch before this one (so it holds all of it). */
  private heldThrough(account: Bytes): boolean {
    for (let e = this.ctx.epoch; e > 0; e--) if (!this.ctx.ringOf(e - 1)!.isCustodian(this.ctx.id, account)) return false;
    return true;
  }

  /** The account's other custodians in the current epoch (hex). */
  private peersOf(account: Bytes): string[] {
    return this.ctx.ring.custodians(account).map(hexOf).filter((h) => h !== this.ctx.idHex);
  }

  /** Accounts with a pull begun lately in this epoch and not yet synced (readiness). */
  syncing(): number {
    const now = this.ctx.now();
    const window = SYNCING_RETRIES * this.ctx.options.retryMs;
    let n = 0;
    for (const p of this.pulls.values()) if (p.epoch === this.ctx.epoch && now < p.at + window) n++;
    return n;
  }

  /** A restart: an `r/` record (the restored marker, or an account re-synced since). */
  restoreResync(key: string, isMarker: boolean): void {
    if (isMarker) this.restored = true;
    else this.resynced.add(key.slice(2));
  }

  /** This replica's state of an account, as it sends it (account-states.ts). */
  sendState(toHex_: string, account: Bytes, hex: string, epoch: number, sweepPage?: number): void {
    this.own.sendState(toHex_, account, hex, epoch, sweepPage);
  }

  sentInPart(a: Account): boolean {
    return this.own.sentInPart(a);
  }

  onPull(fromHex: string, account: Bytes, epoch: number): void {
    this.own.onPull(fromHex, account, epoch);
  }

  /** For tests: entries of the bounded lists (open pulls, empty synced accounts, deferred pulls, report pools, proof lookups). */
  sizes(): { pulls: number; emptySynced: number; deferred: number; pools: number; proofs: number } {
    return { pulls: this.pulls.size, emptySynced: this.emptySynced.size, deferred: this.own.deferredPulls, pools: this.pools.size, proofs: this.proofs.size };
  }

  /** Forgets an account's report pools (and their lone credits' weight on their reporters' budgets). */
  private dropPools(hex: string): void {
    const pools = this.pools.get(hex);
    if (pools === undefined) return;
    for (const p of [pools.old, pools.peer]) if (p !== undefined) this.lone.dropped(p);
    this.pools.delete(hex);
  }

  /** Credits reported by peers and not applied here yet, over every pool: what the reports hold in memory. */
  reportedCredits(): number {
    let n = 0;
    for (const p of this.pools.values()) n += (p.old?.credits.size ?? 0) + (p.peer?.credits.size ?? 0);
    return n;
  }

  /**
   * A state from a peer. Counted in the pool of the old custodians (a handoff, for the
   * current epoch) and/or of the current co-custodians (anti-entropy); each pool
   * merges only what f + 1 of its reporters agree on, or what a certificate proves.
   */
  onState(fromHex: string, s: AccountState, epoch: number): void {
    const ctx = this.ctx;
    const account = s.account;
    const cur = ctx.epoch;
    if (epoch !== cur || !ctx.ring.isCustodian(ctx.id, account)) return;
    const checked = checkState(this.ctx, s);
    if (checked === null) return;
    const hex = toHex(account);
    const prev = cur > 0 ? ctx.ringOf(cur - 1) : undefined;
    const inOld = fromHex !== ctx.idHex && prev !== undefined && prev.custodians(account).some((c) => hexOf(c) === fromHex);
    const inPeer = fromHex !== ctx.idHex && ctx.ring.custodians(account).some((c) => hexOf(c) === fromHex);
    if (!inOld && !inPeer) return;
    let pools = this.pools.get(hex);
    if (!pools) {
      if (this.pools.size >= MAX_TRACKED_ACCOUNTS) this.dropPools(this.pools.keys().next().value!);
      this.pools.set(hex, (pools = {}));
    }
    // An empty report of an account this replica holds nothing of changes nothing but
    // the count of who answered: no entry is made for it (any key can be named).
    const bare = !this.custodian.accounts.has(hex) && isEmpty(checked);
    if (inOld) {
      if (pools.old?.epoch !== cur) {
        if (pools.old !== undefined) this.lone.dropped(pools.old);
        pools.old = newPool(cur, prev!);
      }
      if (bare) heard(pools.old, fromHex, checked);
      else this.report(hex, pools.old, fromHex, checked);
    }
    if (inPeer) {
      if (pools.peer?.epoch !== cur) {
        if (pools.peer !== undefined) this.lone.dropped(pools.peer);
        pools.peer = newPool(cur, ctx.ring);
      }
      if (bare) heard(pools.peer, fromHex, checked);
      else this.report(hex, pools.peer, fromHex, checked);
    }
    // Synced once q old custodians have answered in full and their reports agree on a head.
    const old = pools.old;
    const held = this.custodian.accounts.get(hex);
    if (held === undefined) {
      // Nothing merged yet (every report empty, or none agreed or proved): synced as an empty account, in a bounded list,
      // once the reports a synced replica needs are in (the old custodians', unless this
      // node held the account in every epoch; after a restore, the co-custodians' too).
      const oldDone = old !== undefined && old.epoch === cur && this.oldAnswered(old, account);
      const peer = pools.peer;
      const peers = this.peersOf(account).length;
      const restoring = this.restored && !this.resynced.has(hex) && peers > 0;
      const peerDone = peer !== undefined && peer.epoch === cur && peer.finished.size >= Math.min(ctx.ring.q, peers) && agreed(peer) !== null;
      if ((oldDone || this.heldThrough(account)) && (!restoring || peerDone)) {
        this.emptySynced.delete(hex);
        this.emptySynced.set(hex, cur);
        if (this.emptySynced.size > MAX_EMPTY_SYNCED) this.emptySynced.delete(this.emptySynced.keys().next().value!);
        // A report not merged for want of a second (see merge) is kept: its credits may yet agree, its locks be pinned.
        if (!unmerged(pools)) this.dropPools(hex);
        this.pulls.delete(hex);
      }
      return;
    }
    const a = held;
    if (old !== undefined && old.epoch === cur && a.syncedEpoch < cur && this.oldAnswered(old, account)) {
      a.syncedEpoch = cur;
      this.own.snapshot(hex, a);
      this.pulls.delete(hex);
    }
    // Restored from a backup: re-synced once enough current co-custodians answered in full and agree.
    const peer = pools.peer;
    if (this.restored && !this.resynced.has(hex) && peer !== undefined && peer.epoch === cur) {
      const need = Math.min(ctx.ring.q, this.peersOf(account).length);
      if (peer.finished.size >= need && agreed(peer) !== null) {
        this.resynced.add(hex);
        ctx.persist(Keys.resynced(hex), RESYNCED);
        if (this.isSynced(a, account, hex)) this.pulls.delete(hex);
      }
    }
  }

  private report(hex: string, pool: Pool, sender: string, s: AccountState): void {
    const c = this.custodian;
    const need = threshold(pool.ring);
    pool.states.set(sender, s);
    if (!s.more) pool.finished.add(sender);
    let asks = 0;
    for (const x of s.credits) {
      const idHex = toHex(x.transferId);
      // Applied here already: nothing to gather. Anti-entropy's rotating pages name
      // every credit of a long history in turn; kept, they grew the pool without bound
      // for as long as the epoch lasted.
      if (c.history.hasCredit(idHex, x.transferId)) continue;
      const key = `${idHex}/${x.amount}`;
      let from = pool.credits.get(key);
      if (!from) pool.credits.set(key, (from = new Set()));
      if (from.has(sender)) {
        // Listed again by the same reporter, still by too few: no second word may come
        // (a co-custodian down at k = q), so its bundle is looked up as proof.
        if (asks < MAX_PROOFS_PER_STATE && this.prove(x.transferId, idHex, hex)) asks++;
        continue;
      }
      from.add(sender);
      if (from.size >= need) {
        c.applyCredit(idHex, hex, x.amount, true, undefined, x.transferId);
        pool.credits.delete(key);
        this.lone.settled(pool, key, from);
      } else this.lone.listed(pool, key, from, sender);
    }
    // Enough reporters heard in full that a credit all of them hold would have applied:
    // one that too few list is held by a replica the others lag behind (its peers down
    // or behind), and a handoff's push comes once. Its bundle is looked up.
    if (!s.more && pool.finished.size >= need) {
      for (const [key, from] of pool.credits) {
        if (asks >= MAX_PROOFS_PER_STATE) break;
        if (from.size >= need) continue;
        const idHex = key.slice(0, key.indexOf('/'));
        if (this.prove(fromHex(idHex), idHex, hex)) asks++;
      }
    }
    if (s.frozen) {
      pool.frozen.add(sender);
      if (pool.frozen.size >= need && !c.account(hex).frozen) c.freeze(s.account);
    }
    this.merge(hex, pool, s);
  }

  /** protocol.md §7 merge, with proofs: certified locks win, agreed heads move the head up, the rest is pinned. */
  merge(hex: string, pool: Pool, fresh: AccountState): void {
    const c = this.custodian;
    const ctx = this.ctx;
    // An account this replica holds nothing of gets an entry only for what the pool
    // proves or agrees on. A lone report's locks are not pinned into a new entry: any
    // fresh key can be signed for, and an entry each grew without bound. With no entry
    // (no credit) this replica votes for none of the account's transfers (the balance
    // check); the report stays in the pool, and the first entry made later merges it
    // (onEntry), pins included. The mint's account has no balance check: pinned as before.
    if (!c.accounts.has(hex) && hex !== ctx.mintHex && !this.provesAny(pool)) return;
    this.merging = hex;
    const a = c.account(hex);
    this.merging = null;
    let changed = false;
    // A certified head at or below ours replaces a different lock there.
    for (const s of pool.states.values()) {
      if (s.certificate !== null && s.seq <= a.seq && !(a.certifiedSeq >= s.seq && c.history.holds(a, hex, s.seq, transferId(s.head!)))) {
        c.adoptCertified(hex, s.certificate);
        changed = true;
      }
    }
    // The highest agreed head, with the locks below it that its reporters sent.
    const best = agreed(pool);
    if (best !== null && best.seq > a.seq) {
      a.seq = best.seq;
      const chain = chainOf(best);
      a.head = chain[0]!;
      a.headId = transferId(a.head);
      a.debited = best.debited;
      for (const t of chain) this.adoptLock(hex, a, t);
      changed = true;
    }
    // Certified heads whose chains link to our head extend it: every debit on the way is signed and summed.
    for (let progress = true; progress; ) {
      progress = false;
      for (const s of pool.states.values()) {
        if (s.certificate === null || s.seq <= a.seq) continue;
        const chain = [s.head!, ...s.recent];
        const j = chain.findIndex((t) => t.seq === a.seq + 1 && equal(t.prev, a.headId ?? ZERO32));
        if (j < 0) continue;
        for (let i = j; i >= 0; i--) {
          const t = chain[i]!;
          a.seq = t.seq;
          a.head = t;
          a.headId = transferId(t);
          a.debited += t.amount;
          this.adoptLock(hex, a, t);
        }
        c.adoptCertified(hex, s.certificate);
        changed = true;
        progress = true;
      }
    }
    // What is left above our head is pinned; a different transfer at a held seq is a double spend.
    for (const s of pool.states.values()) {
      if (s.head === null) continue;
      for (const t of [s.head, ...s.recent]) {
        const id = transferId(t);
        if (t.seq > a.seq) {
          const pins = a.pins ?? [];
          if (pins.length < MAX_PINS && !pins.some((p) => equal(transferId(p), id))) c.pin(a, hex, t);
        } else if (s === fresh || t.seq >= a.lockBase) {
          // An older report's locks below the window were compared when it came: not read back again each merge.
          const held = c.history.lockAt(a, hex, t.seq);
          if (held !== undefined && !equal(transferId(held), id)) c.report(t, held);
        }
      }
    }
    if (a.pins !== undefined) c.unpin(a, a.seq, hex);
    if (changed) {
      this.own.snapshot(hex, a);
    }
  }

  /** A lookup's answer: a reported credit its bundle proves is applied (credit-proof.ts). */
  onLookupReply(id: Bytes, bundle: Bundle | null): void {
    const proved = this.proofs.onReply(id, bundle);
    if (proved !== null) this.applyProved(proved);
  }

  /** Looks up a credit's proof; whether a lookup was sent (or a bundle here proved it). */
  private prove(id: Bytes, idHex: string, hex: string): boolean {
    const r = this.proofs.ask(id, idHex, hex);
    if (r === 'asked') return true;
    if (r === 'recent') return false;
    this.applyProved(r);
    return true;
  }

  private applyProved(p: Proved): void {
    this.custodian.applyCredit(p.idHex, p.toHex, p.amount, true, p.to, p.id);
    const pools = this.pools.get(p.toHex);
    if (pools === undefined) return;
    for (const pool of [pools.old, pools.peer]) {
      if (pool === undefined) continue;
      for (const [key, from] of [...pool.credits]) {
        if (!key.startsWith(`${p.idHex}/`)) continue;
        pool.credits.delete(key);
        this.lone.settled(pool, key, from);
      }
    }
  }

  /** Whether the pool holds a checked certificate or an agreed head above the empty account: worth an entry. */
  private provesAny(pool: Pool): boolean {
    for (const s of pool.states.values()) if (s.certificate !== null) return true;
    const best = agreed(pool);
    return best !== null && best.seq > 0;
  }

  /**
   * A new entry for an account (a credit, a freeze, a certified lock): merge what its
   * pools hold, so the locks that a lone reporter listed are pinned before it can vote.
   */
  private onEntry(hex: string): void {
    const pools = this.pools.get(hex);
    if (pools === undefined || this.merging === hex) return;
    const cur = this.ctx.epoch;
    for (const pool of [pools.old, pools.peer]) {
      if (pool === undefined || pool.epoch !== cur) continue;
      for (const s of pool.states.values()) {
        this.merge(hex, pool, s);
        break;
      }
    }
  }

  /** Records a lock learned with proof (no vote was given for it here). */
  private adoptLock(hex: string, a: Account, t: Transfer): void {
    const held = this.custodian.history.lockAt(a, hex, t.seq);
    if (held !== undefined) {
      if (!equal(transferId(held), transferId(t))) this.custodian.report(t, held);
      return;
    }
    this.custodian.history.setLock(a, t);
    this.custodian.persistLock(hex, t);
  }

  /** An `s/` record read back at a restart. */
  restoreSnapshot(hex: string, value: Bytes): void {
    this.own.restoreSnapshot(hex, value);
  }

  /** After moving to a new epoch: push every account whose custodians changed to its new custodians. */
  onEpochChange(prevEpoch: number): void {
    const ctx = this.ctx;
    const prev = ctx.ringOf(prevEpoch);
    if (!prev) return;
    const ring = ctx.ring;
    this.own.answerDeferred();
    for (const [hex, a] of this.custodian.accounts) {
      if (a.seq === 0 && this.custodian.history.creditCount(a) === 0 && !a.frozen) continue;
      const account = fromHex(hex);
      if (!prev.isCustodian(ctx.id, account)) continue;
      const before = new Set(prev.custodians(account).map(hexOf));
      for (const n of ring.custodians(account)) {
        const h = hexOf(n);
        if (h !== ctx.idHex && !before.has(h)) this.own.sendState(h, account, hex, ctx.epoch);
      }
    }
  }
}

/** Whether a pool of an account with no entry holds a report that says something (merge made no entry for it). */
function unmerged(pools: Pools): boolean {
  for (const p of [pools.old, pools.peer]) if (p !== undefined) for (const s of p.states.values()) if (!isEmpty(s)) return true;
  return false;
}
