// The ring (protocol.md §3): positions are SHA-256 of ids read as 256-bit big-endian
// integers; successors(key, m) are the first m distinct members at or after the
// key's position, clockwise. Custody and storage are successors of tagged keys.
import { compare, concat, equal, hexOf, toHex, utf8, ZERO32, type Bytes } from './bytes.ts';
import { sha256 } from './hash.ts';
import { EpochCodec, epochHash, verify, type EpochRecord } from './objects.ts';
import { Reason, Rejection } from './errors.ts';
import type { Verifier } from './signature.ts';
import { Memo } from './memo.ts';

const ACCT = utf8('acct');
const RCPT = utf8('rcpt');

/**
 * Custodians and storage sets by key object (accounts and ids arrive as the same Bytes
 * again and again), for the ring that computed them: another epoch's ring recomputes.
 */
const custodianMemo = new Memo<{ readonly ring: Ring; readonly list: Bytes[] }>('custodians');
const storageMemo = new Memo<{ readonly ring: Ring; readonly list: Bytes[] }>('storage');

/** Rings by epoch record object (Ring.of); weak, so a dropped record takes its ring with it. */
const ringOf = new WeakMap<EpochRecord, Ring>();

export function position(id: Bytes): Bytes {
  return sha256(id);
}

/** Checks an epoch record's own rules: signature by the mint, k and q, member order, chain link. */
export function validateEpoch(record: EpochRecord, mintKey: Bytes, verifier: Verifier, prev?: EpochRecord): void {
  // Member order first: an unsorted list has no canonical encoding, so it cannot even be verified.
  for (let i = 1; i < record.members.length; i++) {
    if (compare(record.members[i - 1]!, record.members[i]!) >= 0) throw new Rejection(Reason.BAD_EPOCH, 'members not sorted and distinct');
  }
  if (!verify(EpochCodec, record.network, verifier, mintKey, record)) throw new Rejection(Reason.BAD_SIGNATURE, `epoch ${record.epoch} not signed by the mint`);
  if (record.k < 1 || record.q < 1 || record.q > record.k) throw new Rejection(Reason.BAD_EPOCH, `k=${record.k} q=${record.q}`);
  // protocol.md §3: 2q <= k would let two disjoint quorums certify two transfers.
  if (2 * record.q <= record.k) throw new Rejection(Reason.BAD_EPOCH, `2q <= k (k=${record.k} q=${record.q})`);
  if (record.members.length === 0) throw new Rejection(Reason.BAD_EPOCH, 'an epoch needs members');
  if (prev === undefined) {
    if (record.epoch === 0 && !equal(record.prev, ZERO32)) throw new Rejection(Reason.BAD_EPOCH, 'epoch 0 must have a zero prev');
  } else {
    if (record.epoch !== prev.epoch + 1) throw new Rejection(Reason.BAD_EPOCH, `epoch ${record.epoch} does not follow ${prev.epoch}`);
    if (!equal(record.prev, epochHash(prev))) throw new Rejection(Reason.BAD_EPOCH, `epoch ${record.epoch} prev does not match`);
  }
}

/**
 * One epoch's ring: members sorted by position, with successor lookups in
 * O(log n + m). Lookups of the same account repeat, so results are memoised
 * (bounded, cleared when full: a cache, never a source of truth).
 */
export class Ring {
  readonly epoch: EpochRecord;
  readonly k: number;
  readonly q: number;
  /** Members sorted by ring position. */
  private readonly order: Bytes[];
  private readonly positions: string[];
  private readonly memberSet: Set<string>;
  private readonly custodianCache = new Map<string, Bytes[]>();
  private static readonly CACHE_LIMIT = 1 << 20;

  /**
   * The ring of an epoch record, built once per record object: drivers ask for the
   * current epoch's ring on every read, and building one sorts every member.
   */
  static of(epoch: EpochRecord): Ring {
    let r = ringOf.get(epoch);
    if (r === undefined) ringOf.set(epoch, (r = new Ring(epoch)));
    return r;
  }

  constructor(epoch: EpochRecord) {
    this.epoch = epoch;
    this.k = epoch.k;
    this.q = epoch.q;
    const placed = epoch.members.map((m) => ({ m, p: toHex(position(m)) }));
    placed.sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
    this.order = placed.map((x) => x.m);
    this.positions = placed.map((x) => x.p);
    this.memberSet = new Set(epoch.members.map(toHex));
  }

  get size(): number {
    return this.order.length;
  }

  isMember(node: Bytes): boolean {
    return this.memberSet.has(hexOf(node));
  }

  /** isMember by the node's lowercase hex (how machines name peers). */
  isMemberHex(nodeHex: string): boolean {
    return this.memberSet.has(nodeHex);
  }

  /** The first m distinct members at or after position(key), clockwise. */
  successors(key: Bytes, m: number): Bytes[] {
    const p = toHex(position(key));
    let lo = 0;
    let hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid]! < p) lo = mid + 1;
      else hi = mid;
    }
    const n = Math.min(m, this.order.length);
    const out: Bytes[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.order[(lo + i) % this.order.length]!;
    return out;
  }

  custodians(account: Bytes): Bytes[] {
    // First by object (accounts arrive as the same Bytes again and again), then by value.
    const m = custodianMemo.get(account);
    if (m !== undefined && m.ring === this) return m.list;
    const key = hexOf(account);
    let c = this.custodianCache.get(key);
    if (c === undefined) {
      if (this.custodianCache.size >= Ring.CACHE_LIMIT) this.custodianCache.clear();
      c = this.successors(concat(ACCT, account), this.k);
      this.custodianCache.set(key, c);
    }
    custodianMemo.set(account, { ring: this, list: c });
    return c;
  }

  isCustodian(node: Bytes, account: Bytes): boolean {
    const cs = this.custodians(account);
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (c === node || equal(c, node)) return true;
    }
    return false;
  }

  /** storage(R): the first is the storage primary, the rest the next storage nodes. Callers must not mutate it. */
  storage(transferId: Bytes): Bytes[] {
    const m = storageMemo.get(transferId);
    if (m !== undefined && m.ring === this) return m.list;
    const s = this.successors(concat(RCPT, transferId), this.k);
    storageMemo.set(transferId, { ring: this, list: s });
    return s;
  }
}
