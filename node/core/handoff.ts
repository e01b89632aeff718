// Handoff of custody at an epoch change (SPEC 7). Old custodians push each
// account's state to the members that newly became its custodians; a new custodian
// that lacks an account answers NOT_SYNCED, pulls it from the old custodians and
// merges. It votes for the account only once q old custodians have answered.
// Merging is monotone (highest seq, union of credits by id), so pushes, pulls and
// anti-entropy repairs may arrive in any order and any number of times.
import { equal, fromHex, toHex, type Bytes } from './bytes.ts';
import { encodeWith, decodeWith, transferId, verify, TransferCodec } from './objects.ts';
import {
  AccountSnapshotCodec, MAX_CREDITS_PER_STATE, type AccountState,
} from './handoff-codec.ts';
import { Keys, type Account, type Custodian } from './custodian.ts';
import { hexOf, type NodeContext } from './node-context.ts';

type Heard = { epoch: number; from: Set<string> };

export class Handoff {
  private readonly ctx: NodeContext;
  private readonly custodian: Custodian;
  /** Account hex -> when this node last pulled it, at which epoch. */
  private readonly pulls = new Map<string, { epoch: number; at: number }>();
  /** Account hex -> old custodians whose whole state (last page) reached us for an epoch. */
  private readonly heard = new Map<string, Heard>();

  constructor(ctx: NodeContext, custodian: Custodian) {
    this.ctx = ctx;
    this.custodian = custodian;
    custodian.isSynced = (a, account, hex) => this.isSynced(a, account, hex);
    custodian.needSync = (account, hex) => this.pull(account, hex);
  }

  /**
   * Whether this replica holds the account's whole state now: it was synced at an
   * epoch and has been a custodian of the account in every epoch since; at epoch 0
   * every account is empty, so every custodian is synced.
   */
  isSynced(a: Account | undefined, account: Bytes, hex: string): boolean {
    const ctx = this.ctx;
    const cur = ctx.epoch;
    if (a !== undefined && a.syncedEpoch >= cur) return true;
    for (let e = cur; ; e--) {
      if (a !== undefined && a.syncedEpoch >= e) break;
      if (e === 0) break;
      if (!ctx.ringOf(e - 1)!.isCustodian(ctx.id, account)) {
        const h = this.heard.get(hex);
        if (e === cur && h !== undefined && h.epoch === cur && h.from.size >= ctx.ringOf(cur - 1)!.q) break;
        return false;
      }
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
    this.pulls.set(hex, { epoch: cur, at: now });
    const prev = ctx.ringOf(cur - 1);
    if (!prev) return;
    const got = this.heard.get(hex);
    for (const c of prev.custodians(account)) {
      const h = hexOf(c);
      if (h === ctx.idHex || (got?.epoch === cur && got.from.has(h))) continue;
      ctx.sendHex(h, { type: 'account-pull', account, epoch: cur });
    }
  }

  /** This replica's state of an account, in pages of credits. */
  states(account: Bytes, hex: string): AccountState[] {
    const a = this.custodian.accounts.get(hex);
    const base = {
      account,
      frozen: a?.frozen ?? false,
      seq: a?.seq ?? 0,
      head: a?.head ?? null,
      headCertified: a !== undefined && a.seq > 0 && a.certifiedSeq >= a.seq,
      debited: a?.debited ?? 0n,
      credited: a?.credited ?? 0n,
    };
    const ids = a?.credits ?? [];
    const out: AccountState[] = [];
    for (let i = 0; i === 0 || i < ids.length; i += MAX_CREDITS_PER_STATE) {
      const page = ids.slice(i, i + MAX_CREDITS_PER_STATE).map((id) => ({ transferId: fromHex(id), amount: this.custodian.credits.get(id)!.amount }));
      out.push({ ...base, credits: page, more: i + MAX_CREDITS_PER_STATE < ids.length });
    }
    return out;
  }

  sendState(toHex_: string, account: Bytes, hex: string, epoch: number): void {
    for (const state of this.states(account, hex)) this.ctx.sendHex(toHex_, { type: 'account-state', state, epoch });
  }

  onPull(fromHex: string, account: Bytes, epoch: number): void {
    this.sendState(fromHex, account, toHex(account), epoch);
  }

  /**
   * A state from a peer: merged when the peer is (or was) a custodian of the
   * account, and counted toward sync when it is the last page of an old custodian's.
   */
  onState(fromHex: string, s: AccountState, epoch: number): void {
    const ctx = this.ctx;
    const account = s.account;
    const hex = toHex(account);
    const sender = fromHex;
    const cur = ctx.epoch;
    const isCust = (n: number): boolean => {
      const r = ctx.ringOf(n);
      return r !== undefined && r.custodians(account).some((c) => hexOf(c) === sender);
    };
    const oldCustodian = epoch > 0 && isCust(epoch - 1);
    if (!oldCustodian && !isCust(cur) && !(cur > 0 && isCust(cur - 1))) return;
    if (s.head !== null && (!equal(s.head.from, account) || s.head.seq !== s.seq || !verify(TransferCodec, ctx.network, ctx.scheme, account, s.head))) return;
    this.merge(hex, s);
    if (oldCustodian && !s.more) {
      let h = this.heard.get(hex);
      if (!h || h.epoch < epoch) this.heard.set(hex, (h = { epoch, from: new Set() }));
      if (h.epoch === epoch) h.from.add(sender);
      // Synced once q old custodians have answered for the current epoch.
      const prev = ctx.ringOf(epoch - 1);
      if (epoch === cur && prev && h.from.size >= prev.q) {
        const a = this.custodian.account(hex);
        if (a.syncedEpoch < cur) {
          a.syncedEpoch = cur;
          this.snapshot(hex, a);
        }
        this.pulls.delete(hex);
      }
    }
  }

  /** SPEC 7 merge: highest seq wins; at one seq a certified lock wins; credits are a union by id. */
  merge(hex: string, s: AccountState): void {
    const c = this.custodian;
    const a = c.account(hex);
    let changed = false;
    if (s.frozen && !a.frozen) c.freeze(s.account);
    if (s.head !== null) {
      const id = transferId(s.head);
      if (s.seq > a.seq) {
        a.locks[s.seq] = s.head;
        a.seq = s.seq;
        a.head = s.head;
        a.headId = id;
        if (s.debited > a.debited) a.debited = s.debited;
        if (s.headCertified) a.certifiedSeq = s.seq;
        changed = true;
      } else if (s.seq === a.seq && !equal(id, a.headId!)) {
        if (s.headCertified && a.certifiedSeq < a.seq) {
          c.adoptCertified(hex, s.head, id);
          changed = true;
        }
      } else if (s.headCertified && a.certifiedSeq < s.seq && a.locks[s.seq] !== undefined && equal(transferId(a.locks[s.seq]!), id)) {
        a.certifiedSeq = s.seq;
        changed = true;
      }
    }
    for (const x of s.credits) c.applyCredit(toHex(x.transferId), hex, x.amount, true);
    if (changed) this.snapshot(hex, a);
  }

  snapshot(hex: string, a: Account): void {
    const state: AccountState = {
      account: fromHex(hex), frozen: a.frozen, seq: a.seq, head: a.head, headCertified: a.seq > 0 && a.certifiedSeq >= a.seq,
      debited: a.debited, credited: a.credited, credits: [], more: false,
    };
    this.ctx.persist(Keys.snapshot(hex), encodeWith({ state, syncedEpoch: a.syncedEpoch }, AccountSnapshotCodec.write));
  }

  restoreSnapshot(hex: string, value: Bytes): void {
    const { state, syncedEpoch } = decodeWith(this.ctx.network, value, AccountSnapshotCodec.read);
    const a = this.custodian.account(hex);
    a.seq = state.seq;
    a.head = state.head;
    a.headId = state.head ? transferId(state.head) : null;
    if (state.head) a.locks[state.seq] = state.head;
    a.debited = state.debited;
    if (state.headCertified && state.seq > a.certifiedSeq) a.certifiedSeq = state.seq;
    a.syncedEpoch = Math.max(a.syncedEpoch, syncedEpoch);
  }

  /** After moving to a new epoch: push every account whose custodians changed to its new custodians. */
  onEpochChange(prevEpoch: number): void {
    const ctx = this.ctx;
    const prev = ctx.ringOf(prevEpoch);
    if (!prev) return;
    const ring = ctx.ring;
    for (const [hex, a] of this.custodian.accounts) {
      if (a.seq === 0 && a.credits.length === 0 && !a.frozen) continue;
      const account = fromHex(hex);
      if (!prev.isCustodian(ctx.id, account)) continue;
      const before = new Set(prev.custodians(account).map(hexOf));
      for (const n of ring.custodians(account)) {
        const h = hexOf(n);
        if (h !== ctx.idHex && !before.has(h)) this.sendState(h, account, hex, ctx.epoch);
      }
    }
  }
}
