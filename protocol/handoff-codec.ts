// Layouts of the state that moves between replicas: an account's custody state
// (handoff, protocol.md §7) and anti-entropy digests (protocol.md §7, Anti-entropy).
import { Reason, Rejection } from './errors.ts';
import type { Reader, Writer } from './codec.ts';
import type { Bytes } from './bytes.ts';
import { readCertificate, readTransfer, writeCertificate, writeTransfer, type Certificate, type Transfer } from './objects.ts';

/**
 * Credits listed in one account-state message; more are sent in further pages. With
 * MAX_RECENT_LOCKS full-size transfers and a certificate, a page stays under
 * MAX_MESSAGE_BYTES (768 × 40 + 64 × 242 + head and certificate ≈ 49 KiB).
 */
export const MAX_CREDITS_PER_STATE = 768;
/** Entries in one digest message: 64 bytes each keeps a digest under 64 KiB. */
export const MAX_DIGEST_ENTRIES = 960;
/**
 * Locks below the head sent with an account state: enough that replicas lagging
 * behind each other still share points to agree on, and that a new custodian can
 * re-vote for a pipelined transfer below the head — the mint may have this many
 * issuances in flight across an epoch change (8 was too few: SEQ_USED in
 * test/core/handoff-race.test.ts).
 */
export const MAX_RECENT_LOCKS = 64;

/**
 * One replica's view of an account, compact enough to hand off: the head of its
 * debit chain, the (possibly uncertified) lock at that head with its certificate when
 * known, the locks just below it, totals, and the ids of credits applied (for
 * exactly-once credit). One replica may lie: the receiver trusts a head only with its
 * certificate or when enough replicas agree, and a credit only when enough report it.
 */
export type AccountState = {
  readonly account: Bytes;
  readonly frozen: boolean;
  /** Highest seq locked at this replica (0: none). */
  readonly seq: number;
  /** The transfer locked at `seq`, or null when seq is 0. */
  readonly head: Transfer | null;
  /** The head's certificate, when this replica knows it. */
  readonly certificate: Certificate | null;
  /** Locks at seq-1, seq-2, ... (each the `prev` of the one above), at most MAX_RECENT_LOCKS. */
  readonly recent: readonly Transfer[];
  /** Sum of debits locked, including the head. */
  readonly debited: bigint;
  /** Sum of credits applied. */
  readonly credited: bigint;
  /** Ids and amounts of credits applied (one page of them). */
  readonly credits: readonly { readonly transferId: Bytes; readonly amount: bigint }[];
  /** True when more credit pages follow. */
  readonly more: boolean;
};

export const AccountStateCodec = {
  write(w: Writer, s: AccountState): void {
    w.fixed(s.account, 32).bool(s.frozen).u64n(s.seq).bool(s.head !== null);
    if (s.head) writeTransfer(w, s.head);
    w.bool(s.certificate !== null);
    if (s.certificate) writeCertificate(w, s.certificate);
    w.u16(s.recent.length);
    for (const t of s.recent) writeTransfer(w, t);
    w.u64(s.debited).u64(s.credited).u16(s.credits.length);
    for (const c of s.credits) w.fixed(c.transferId, 32).u64(c.amount);
    w.bool(s.more);
  },
  read(r: Reader): AccountState {
    const account = r.fixed(32);
    const frozen = r.bool();
    const seq = r.u64n();
    const head = r.bool() ? readTransfer(r) : null;
    const certificate = r.bool() ? readCertificate(r) : null;
    const m = r.count(MAX_RECENT_LOCKS);
    const recent = [];
    for (let i = 0; i < m; i++) recent.push(readTransfer(r));
    const debited = r.u64();
    const credited = r.u64();
    const n = r.count(MAX_CREDITS_PER_STATE);
    const credits = [];
    for (let i = 0; i < n; i++) credits.push({ transferId: r.fixed(32), amount: r.u64() });
    const more = r.bool();
    if ((head === null) !== (seq === 0)) throw new Rejection(Reason.MALFORMED, 'head must be present exactly when seq > 0');
    if (head === null && (certificate !== null || recent.length > 0)) throw new Rejection(Reason.MALFORMED, 'a certificate or recent locks without a head');
    return { account, frozen, seq, head, certificate, recent, debited, credited, credits, more };
  },
};

/** A digest of what a replica holds: (key, hash of its state) pairs, sorted by key. */
export type Digest = {
  readonly kind: 'accounts' | 'bundles';
  readonly epoch: number;
  readonly entries: readonly { readonly key: Bytes; readonly hash: Bytes }[];
};

export const DigestCodec = {
  write(w: Writer, d: Digest): void {
    w.u8(d.kind === 'accounts' ? 1 : 2).u64n(d.epoch).u16(d.entries.length);
    for (const e of d.entries) w.fixed(e.key, 32).fixed(e.hash, 32);
  },
  read(r: Reader): Digest {
    const k = r.u8();
    if (k !== 1 && k !== 2) throw new Rejection(Reason.MALFORMED, `unknown digest kind ${k}`);
    const epoch = r.u64n();
    const n = r.count(MAX_DIGEST_ENTRIES);
    const entries = [];
    for (let i = 0; i < n; i++) entries.push({ key: r.fixed(32), hash: r.fixed(32) });
    return { kind: k === 1 ? 'accounts' : 'bundles', epoch, entries };
  },
};

/**
 * A replica's durable summary of an account after a handoff merge (no credit list:
 * credits are their own records), plus the epoch at which it was synced.
 */
export type AccountSnapshot = { readonly state: AccountState; readonly syncedEpoch: number };

export const AccountSnapshotCodec = {
  write(w: Writer, s: AccountSnapshot): void {
    AccountStateCodec.write(w, { ...s.state, recent: [], credits: [], more: false });
    // syncedEpoch may be -1 (not yet synced): stored shifted by one.
    w.u64n(s.syncedEpoch + 1);
  },
  read(r: Reader): AccountSnapshot {
    const state = AccountStateCodec.read(r);
    return { state, syncedEpoch: r.u64n() - 1 };
  },
};
