// A replica's account states (protocol.md §7): what it tells others of the accounts it
// holds (its state in pages of credits: a handoff sends every page, anti-entropy the
// latest and one older page in turn; its answers to pulls, which wait while the pull
// names the next epoch), the snapshot record it keeps of each, and the check a state
// from a peer passes before any of it counts. handoff.ts takes in what others tell.
import { equal, fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import { checkCertificate } from '../../protocol/certificate.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import { decodeWith, encodeWith, transferId, verify, TransferCodec, type Certificate, type Transfer } from '../../protocol/objects.ts';
import { AccountSnapshotCodec, MAX_CREDITS_PER_STATE, MAX_RECENT_LOCKS, type AccountState } from '../../protocol/handoff-codec.ts';
import { Keys } from './record-keys.ts';
import type { Custodian } from './custodian.ts';
import type { Account } from './account.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import type { Ring } from '../../protocol/ring.ts';

/**
 * Pages of credits an anti-entropy state holds at most (the latest, one older). An
 * account with no more credits than this is sent whole, as at a handoff.
 */
export const ANTI_ENTROPY_PAGES = 2;

/** Pulls held for a later epoch; past this they are dropped (the puller asks again on its next vote request). */
const MAX_DEFERRED_PULLS = 1 << 14;

export class AccountStates {
  private readonly ctx: NodeContext;
  private readonly custodian: Custodian;
  /** Pulls for an epoch this node has not reached yet, answered when it does. */
  private readonly deferred = new Map<string, { readonly to: string; readonly account: Bytes; readonly epoch: number }>();

  constructor(ctx: NodeContext, custodian: Custodian) {
    this.ctx = ctx;
    this.custodian = custodian;
  }

  /**
   * This replica's state of an account, in pages of credits: every credit (a handoff,
   * which counts a reporter as finished once its last page is in), or for anti-entropy
   * at most two pages, the latest credits and one older page that the next rounds
   * rotate through (`sweepPage`), none marked finished. A replica's credits grow with
   * every payment to the account; sending them all each round grew without bound.
   */
  states(account: Bytes, hex: string, sweepPage?: number): AccountState[] {
    const a = this.custodian.accounts.get(hex);
    const base = {
      account,
      frozen: a?.frozen ?? false,
      seq: a?.seq ?? 0,
      head: a?.head ?? null,
      certificate: a !== undefined && a.seq > 0 && a.cert !== null && a.cert.transfer.seq === a.seq ? a.cert : null,
      recent: a !== undefined ? recentLocks(this.custodian, a, hex) : [],
      debited: a?.debited ?? 0n,
      credited: a?.credited ?? 0n,
    };
    const count = a !== undefined ? this.custodian.history.creditCount(a) : 0;
    const out: AccountState[] = [];
    const page = (from: number, to: number) => {
      const credits: { transferId: Bytes; amount: bigint }[] = [];
      for (let n = from; n < Math.min(to, count); n++) {
        const c = this.custodian.history.creditAt(a!, hex, n);
        if (c !== undefined) credits.push({ transferId: fromHex(c.idHex), amount: c.amount });
      }
      return credits;
    };
    if (sweepPage !== undefined && a !== undefined && this.sentInPart(a)) {
      const older = count - MAX_CREDITS_PER_STATE;
      const from = (sweepPage % Math.ceil(older / MAX_CREDITS_PER_STATE)) * MAX_CREDITS_PER_STATE;
      out.push({ ...base, credits: page(older, count), more: true });
      out.push({ ...base, credits: page(from, Math.min(from + MAX_CREDITS_PER_STATE, older)), more: true });
      return out;
    }
    for (let i = 0; i === 0 || i < count; i += MAX_CREDITS_PER_STATE) {
      out.push({ ...base, credits: page(i, i + MAX_CREDITS_PER_STATE), more: i + MAX_CREDITS_PER_STATE < count });
    }
    return out;
  }

  sendState(toHex_: string, account: Bytes, hex: string, epoch: number, sweepPage?: number): void {
    for (const state of this.states(account, hex, sweepPage)) this.ctx.sendHex(toHex_, { type: 'account-state', state, epoch });
  }

  /** Whether anti-entropy sends this account in part (see states): more credits than ANTI_ENTROPY_PAGES pages. */
  sentInPart(a: Account): boolean {
    return this.custodian.history.creditCount(a) > ANTI_ENTROPY_PAGES * MAX_CREDITS_PER_STATE;
  }

  /**
   * A pull for `epoch`. Answered only once this node is in that epoch itself: before,
   * it may still lock and vote for the account in the old epoch, and a state sent now
   * would miss those locks, so the puller could count as synced and vote a rival of a
   * transfer certified with old-epoch votes (I3). Earlier pulls wait for the epoch.
   */
  onPull(fromHex: string, account: Bytes, epoch: number): void {
    const ctx = this.ctx;
    if (epoch > ctx.epoch) {
      // Only the next epoch: a pull naming a far one (unknown, maybe invented) must not fill the list.
      // Its asker (maybe a member only from that epoch on) is checked when this node reaches it (onEpochChange).
      if (epoch === ctx.epoch + 1 && this.deferred.size < MAX_DEFERRED_PULLS) this.deferred.set(`${fromHex}/${toHex(account)}`, { to: fromHex, account, epoch });
      return;
    }
    this.answerPull(fromHex, account, epoch);
  }

  /**
   * The whole state (every page) goes only to a custodian of the account, in the
   * current epoch or the one the pull names (a puller a step behind); another member
   * of the current ring (a gateway answering GET /accounts) gets the first page, which
   * is all it reads; anyone else gets nothing. A 41-byte pull must not buy an
   * account's whole history.
   */
  private answerPull(fromHex: string, account: Bytes, epoch: number): void {
    const ctx = this.ctx;
    const hex = toHex(account);
    const named = epoch >= ctx.epoch - 1 ? ctx.ringOf(epoch) : undefined;
    const custodian = (r: Ring | undefined) => r !== undefined && r.custodians(account).some((c) => hexOf(c) === fromHex);
    if (custodian(ctx.ring) || custodian(named)) return this.sendState(fromHex, account, hex, epoch);
    if (!ctx.ring.isMemberHex(fromHex)) return;
    const first = this.states(account, hex)[0]!;
    ctx.sendHex(fromHex, { type: 'account-state', state: { ...first, more: false }, epoch });
  }

  /** A new epoch: the pulls that waited for it are answered (their askers checked now); older ones are dropped. */
  answerDeferred(): void {
    const ctx = this.ctx;
    for (const [key, p] of this.deferred) {
      if (p.epoch > ctx.epoch) continue;
      this.deferred.delete(key);
      if (p.epoch === ctx.epoch) this.answerPull(p.to, p.account, p.epoch);
    }
  }

  snapshot(hex: string, a: Account): void {
    const state: AccountState = {
      account: fromHex(hex), frozen: a.frozen, seq: a.seq, head: a.head,
      certificate: a.seq > 0 && a.cert !== null && a.cert.transfer.seq === a.seq ? a.cert : null, recent: [],
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
    if (state.head) this.custodian.history.setLock(a, state.head);
    a.debited = state.debited;
    if (state.certificate !== null && state.seq >= a.certifiedSeq) {
      a.certifiedSeq = state.seq;
      a.cert = state.certificate;
    }
    a.syncedEpoch = Math.max(a.syncedEpoch, syncedEpoch);
  }

  /** Pulls waiting for an epoch (tests). */
  get deferredPulls(): number {
    return this.deferred.size;
  }
}

/** The locks just below the head, each the prev of the one above, while this replica holds them. */
function recentLocks(c: Custodian, a: Account, hex: string): Transfer[] {
  const out: Transfer[] = [];
  let above = a.head;
  while (above !== null && out.length < MAX_RECENT_LOCKS && above.seq > 1) {
    const t = c.history.lockAt(a, hex, above.seq - 1);
    if (t === undefined || !equal(transferId(t), above.prev)) break;
    out.push(t);
    above = t;
  }
  return out;
}

/**
 * A state from a peer, checked before any of it counts: its signed parts hold: the head and each recent lock signed by the
 * account, at the stated seqs, each the `prev` of the one above (the chain is cut at
 * the first that does not fit); a certificate that does not prove the head is dropped.
 */
export function checkState(ctx: NodeContext, s: AccountState): AccountState | null {
  const account = s.account;
  const signed = (t: Transfer, seq: number): boolean => equal(t.from, account) && t.seq === seq && verify(TransferCodec, ctx.network, ctx.scheme, account, t);
  if (s.head === null) return s.debited === 0n ? s : { ...s, debited: 0n, frozen: s.frozen };
  if (!signed(s.head, s.seq)) return null;
  const recent: Transfer[] = [];
  let above = s.head;
  for (const t of s.recent.slice(0, MAX_RECENT_LOCKS)) {
    if (!signed(t, above.seq - 1) || !equal(transferId(t), above.prev)) break;
    recent.push(t);
    above = t;
  }
  let certificate: Certificate | null = s.certificate;
  if (certificate !== null) {
    try {
      if (!equal(transferId(certificate.transfer), transferId(s.head))) throw new Rejection(Reason.BAD_CERTIFICATE, 'the certificate is not of the head');
      checkCertificate(certificate, ctx.check);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      certificate = null;
    }
  }
  return { ...s, recent, certificate };
}
