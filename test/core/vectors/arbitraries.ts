// fast-check generators for every protocol message, in canonical form (lists
// sorted the way the writer sorts them, evidence in id order), so a decoded
// message must deep-equal the generated one.
import fc from 'fast-check';
import { compare, toHex, type Bytes } from '../../../protocol/bytes.ts';
import { U64_MAX } from '../../../protocol/codec.ts';
import { Reason, type ReasonCode } from '../../../protocol/errors.ts';
import {
  bindNetwork, doubleSpendEvidence, equivocationEvidence, transferId,
  type Alert, type Bundle, type Certificate, type EpochRecord, type Evidence, type JoinRequest, type Notice, type Receipt, type Repudiation, type Transfer, type Vote,
} from '../../../protocol/objects.ts';
import type { AccountState, Digest } from '../../../protocol/handoff-codec.ts';
import type { Message, MessageType } from '../../../protocol/messages.ts';
import { NET } from './fixtures.ts';

/** Plain-prototype records, so decoded objects (plain) deep-equal generated ones. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const b64 = fc.uint8Array({ minLength: 64, maxLength: 64 });
const u64n = fc.maxSafeNat();
const amount = fc.bigInt({ min: 1n, max: U64_MAX });
const anyU64 = fc.bigInt({ min: 0n, max: U64_MAX });
/** Text of at most `bytes` UTF-8 bytes, any characters. */
const text = (bytes: number) => fc.string({ unit: 'grapheme', maxLength: bytes }).filter((s) => Buffer.byteLength(s) <= bytes);

export const transferArb: fc.Arbitrary<Transfer> = rec({ from: b32, to: b32, amount, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), prev: b32, memo: fc.uint8Array({ maxLength: 64 }), sig: b64 })
  .map((t) => bindNetwork(t, NET));

export const voteArb: fc.Arbitrary<Vote> = rec({ transferId: b32, from: b32, seq: u64n, epoch: u64n, voter: b32, sig: b64 })
  .map((v) => bindNetwork(v, NET));

export const receiptArb: fc.Arbitrary<Receipt> = rec({ transferId: b32, to: b32, amount: anyU64, epoch: u64n, custodian: b32, sig: b64 })
  .map((x) => bindNetwork(x, NET));

export const certificateArb: fc.Arbitrary<Certificate> = rec({
  transfer: transferArb,
  votes: fc.uniqueArray(voteArb, { maxLength: 6, selector: (v) => toHex(v.voter) }).map((vs) => vs.sort((a, b) => compare(a.voter, b.voter))),
});

export const bundleArb: fc.Arbitrary<Bundle> = rec({
  certificate: certificateArb,
  receipts: fc.uniqueArray(receiptArb, { maxLength: 6, selector: (x) => toHex(x.custodian) }).map((xs) => xs.sort((a, b) => compare(a.custodian, b.custodian))),
});

export const epochArb: fc.Arbitrary<EpochRecord> = rec({
    network: fc.constant(NET),
    epoch: u64n,
    members: fc.uniqueArray(b32, { maxLength: 24, selector: toHex }).map((ms) => ms.sort(compare)),
    k: fc.integer({ min: 0, max: 255 }),
    q: fc.integer({ min: 0, max: 255 }),
    prev: b32,
    issuedAt: u64n,
    sig: b64,
  })
  .map((e) => bindNetwork(e, NET));

export const evidenceArb: fc.Arbitrary<Evidence> = fc.oneof(
  fc.tuple(transferArb, transferArb).filter(([a, b]) => compare(transferId(a), transferId(b)) !== 0).map(([a, b]) => doubleSpendEvidence(a, b)),
  fc.tuple(voteArb, voteArb).filter(([a, b]) => compare(a.transferId, b.transferId) !== 0).map(([a, b]) => equivocationEvidence(a, b)),
);

export const noticeArb: fc.Arbitrary<Notice> = rec({ evidence: evidenceArb, reporter: b32, sig: b64 }).map((n) => bindNetwork(n, NET));
export const alertArb: fc.Arbitrary<Alert> = rec({ notice: noticeArb, alertSeq: u64n, sig: b64 }).map((a) => bindNetwork(a, NET));
export const repudiationArb: fc.Arbitrary<Repudiation> = rec({ noticeHash: b32, reason: text(256), reporter: b32, sig: b64 })
  .map((x) => bindNetwork(x, NET));
export const joinArb: fc.Arbitrary<JoinRequest> = rec({ node: b32, addrs: fc.array(text(256), { maxLength: 16 }), issuedAt: u64n, sig: b64 })
  .map((j) => bindNetwork(j, NET));

export const accountStateArb: fc.Arbitrary<AccountState> = rec({
    account: b32,
    frozen: fc.boolean(),
    seq: u64n,
    head: transferArb,
    certificate: fc.option(certificateArb, { nil: null }),
    recent: fc.array(transferArb, { maxLength: 3 }),
    debited: anyU64,
    credited: anyU64,
    credits: fc.array(rec({ transferId: b32, amount: anyU64 }), { maxLength: 8 }),
    more: fc.boolean(),
  })
  .map((s) => (s.seq === 0 ? { ...s, head: null, certificate: null, recent: [] } : s));

export const digestArb: fc.Arbitrary<Digest> = rec({
  kind: fc.constantFrom('accounts' as const, 'bundles' as const),
  epoch: u64n,
  entries: fc.array(rec({ key: b32, hash: b32 }), { maxLength: 12 }),
});

const reasonArb = fc.constantFrom(...(Object.values(Reason) as ReasonCode[]));

/** One generator per message type: the test checks this covers every wire tag. */
export const messageArbs: { [T in MessageType]: fc.Arbitrary<Extract<Message, { type: T }>> } = {
  'vote-request': transferArb.map((transfer) => ({ type: 'vote-request' as const, transfer })),
  vote: voteArb.map((vote) => ({ type: 'vote' as const, vote })),
  reject: rec({ transferId: b32, code: reasonArb, detail: text(256) }).map((r) => ({ type: 'reject' as const, ...r })),
  conflict: rec({ transferId: b32, locked: transferArb }).map((r) => ({ type: 'conflict' as const, ...r })),
  certified: certificateArb.map((certificate) => ({ type: 'certified' as const, certificate })),
  'credit-request': certificateArb.map((certificate) => ({ type: 'credit-request' as const, certificate })),
  receipt: receiptArb.map((receipt) => ({ type: 'receipt' as const, receipt })),
  store: rec({ bundle: bundleArb, ack: fc.boolean() }).map((r) => ({ type: 'store' as const, ...r })),
  stored: b32.map((transferId) => ({ type: 'stored' as const, transferId })),
  lookup: b32.map((transferId) => ({ type: 'lookup' as const, transferId })),
  'lookup-reply': rec({ transferId: b32, bundle: fc.option(bundleArb, { nil: null }) }).map((r) => ({ type: 'lookup-reply' as const, ...r })),
  'account-pull': rec({ account: b32, epoch: u64n }).map((r) => ({ type: 'account-pull' as const, ...r })),
  'account-state': rec({ state: accountStateArb, epoch: u64n }).map((r) => ({ type: 'account-state' as const, ...r })),
  digest: digestArb.map((digest) => ({ type: 'digest' as const, digest })),
  submit: transferArb.map((transfer) => ({ type: 'submit' as const, transfer })),
  done: fc.uniqueArray(b32, { maxLength: 8, selector: (b) => Array.from(b).join(',') })
    .map((ids) => ({ type: 'done' as const, transferIds: [...ids].sort(compare) })),
  notice: noticeArb.map((notice) => ({ type: 'notice' as const, notice })),
  join: joinArb.map((join) => ({ type: 'join' as const, join })),
  alert: alertArb.map((alert) => ({ type: 'alert' as const, alert })),
  repudiation: repudiationArb.map((repudiation) => ({ type: 'repudiation' as const, repudiation })),
  epoch: epochArb.map((record) => ({ type: 'epoch' as const, record })),
  'epoch-request': u64n.map((from) => ({ type: 'epoch-request' as const, from })),
  reachability: rec({ reporter: b32, epoch: u64n, at: u64n, unreachable: fc.array(b32, { maxLength: 4 }), sig: b64 }).map((report) => ({ type: 'reachability' as const, report })),
};

export const messageArb: fc.Arbitrary<Message> = fc.oneof(...(Object.values(messageArbs) as fc.Arbitrary<Message>[]));

export type { Bytes };
