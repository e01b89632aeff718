// Messages between nodes, and between nodes and the mint (protocol.md §5–7). They are the
// only input protocol machines take from the outside besides timer ticks. The
// daemon encodes them on libp2p streams; the simulator passes the objects and
// counts their encoded sizes.
import { Reason, Rejection, type ReasonCode } from './errors.ts';
import { Reader, Writer } from './codec.ts';
import { compare, type Bytes } from './bytes.ts';
import {
  decodeWith, encodeWith,
  readAlert, readBundle, readCertificate, readEpoch, readJoin, readNotice, readReceipt, readRepudiation, readTransfer, readVote,
  writeAlert, writeBundle, writeCertificate, writeEpoch, writeJoin, writeNotice, writeReceipt, writeRepudiation, writeTransfer, writeVote,
  Limits,
  type Alert, type Bundle, type Certificate, type EpochRecord, type JoinRequest, type Notice, type Receipt, type Repudiation, type Transfer, type Vote,
} from './objects.ts';
import { AccountStateCodec, DigestCodec, type AccountState, type Digest } from './handoff-codec.ts';
import { finalSignature } from './batch-signature.ts';
import { readReachability, writeReachability, type ReachabilityReport } from './reachability.ts';

export type Message =
  // gateway -> custodians(from): please lock (from, seq) to this transfer
  | { readonly type: 'vote-request'; readonly transfer: Transfer }
  // custodian -> gateway: locked, durably
  | { readonly type: 'vote'; readonly vote: Vote }
  // custodian -> gateway: refused, with the reason
  | { readonly type: 'reject'; readonly transferId: Bytes; readonly code: ReasonCode; readonly detail: string }
  // custodian -> gateway: (from, seq) is locked to another transfer, here it is
  | { readonly type: 'conflict'; readonly transferId: Bytes; readonly locked: Transfer }
  // gateway -> custodians(from): the debit is certified
  | { readonly type: 'certified'; readonly certificate: Certificate }
  // gateway -> custodians(to): apply the credit
  | { readonly type: 'credit-request'; readonly certificate: Certificate }
  // custodian(to) -> gateway: credit applied, durably
  | { readonly type: 'receipt'; readonly receipt: Receipt }
  // gateway -> storage nodes; ack: answer `stored` (the first f + 1), else a copy nobody waits on
  | { readonly type: 'store'; readonly bundle: Bundle; readonly ack: boolean }
  // storage node -> gateway: stored durably (answers a `store` with ack)
  | { readonly type: 'stored'; readonly transferId: Bytes }
  | { readonly type: 'lookup'; readonly transferId: Bytes }
  | { readonly type: 'lookup-reply'; readonly transferId: Bytes; readonly bundle: Bundle | null }
  // handoff (protocol.md §7): a new custodian pulls, an old one pushes or answers
  | { readonly type: 'account-pull'; readonly account: Bytes; readonly epoch: number }
  | { readonly type: 'account-state'; readonly state: AccountState; readonly epoch: number }
  // anti-entropy (protocol.md §7, Anti-entropy)
  | { readonly type: 'digest'; readonly digest: Digest }
  // a signed transfer handed to a gateway by a peer (the mint's issuances)
  | { readonly type: 'submit'; readonly transfer: Transfer }
  // gateway -> custodians: these transfers are finished (stored, rejected or conflict); no take-over needed
  | { readonly type: 'done'; readonly transferIds: readonly Bytes[] }
  // node -> mint
  // `proof`: a certificate of a transfer from or to the offending account, which shows the
  // double spender stood to lose something (protocol.md §6, Rewards); without it a valid notice earns nothing
  | { readonly type: 'notice'; readonly notice: Notice; readonly proof?: Certificate }
  | { readonly type: 'join'; readonly join: JoinRequest }
  // mint -> every node (gossip)
  | { readonly type: 'alert'; readonly alert: Alert }
  | { readonly type: 'repudiation'; readonly repudiation: Repudiation }
  | { readonly type: 'epoch'; readonly record: EpochRecord }
  // node -> mint or node: send me the epoch records from `from` on (answered with 'epoch' messages, protocol.md §7, Catch-up)
  | { readonly type: 'epoch-request'; readonly from: number }
  // member -> mint: alive, and these members were out of reach (protocol.md §7, Failure detection)
  | { readonly type: 'reachability'; readonly report: ReachabilityReport };

export type MessageType = Message['type'];

/** Wire tags: one byte per message type; never reuse a retired number. */
export const MessageTag = {
  'vote-request': 1,
  vote: 2,
  reject: 3,
  conflict: 4,
  certified: 5,
  'credit-request': 6,
  receipt: 7,
  store: 8,
  stored: 9,
  lookup: 10,
  'lookup-reply': 11,
  'account-pull': 12,
  'account-state': 13,
  digest: 14,
  submit: 15,
  done: 16,
  notice: 20,
  join: 21,
  alert: 22,
  repudiation: 23,
  epoch: 24,
  'epoch-request': 25,
  reachability: 26,
} as const satisfies Record<MessageType, number>;

const typeByTag = new Map<number, MessageType>(Object.entries(MessageTag).map(([t, n]) => [n, t as MessageType]));
const reasonCodes = new Set<string>(Object.values(Reason));

/**
 * A reject's detail, cut to REASON_BYTES at a character boundary: exactly what the
 * reader accepts, so every decodable reject re-encodes to the same bytes.
 */
function detailBytes(detail: string): Bytes {
  const b = new TextEncoder().encode(detail);
  if (b.length <= Limits.REASON_BYTES) return b;
  let n = Limits.REASON_BYTES;
  while (n > 0 && (b[n]! & 0xc0) === 0x80) n--; // do not split a multi-byte character
  return b.subarray(0, n);
}

/** Transfer ids one `done` message carries at most (32 KiB of ids). */
export const MAX_DONE_IDS = 1024;

function writeDone(w: Writer, ids: readonly Bytes[]): void {
  if (ids.length > MAX_DONE_IDS) throw new Rejection(Reason.OVERSIZED, `done of ${ids.length} ids`);
  // Sorted and distinct: one encoding per set.
  const sorted = [...ids].sort(compare);
  w.u16(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && compare(sorted[i - 1]!, sorted[i]!) === 0) throw new Rejection(Reason.NON_CANONICAL, 'done lists an id twice');
    w.fixed(sorted[i]!, 32);
  }
}

function readDone(r: Reader): Bytes[] {
  const n = r.u16();
  if (n > MAX_DONE_IDS) throw new Rejection(Reason.OVERSIZED, `done of ${n} ids`);
  const ids: Bytes[] = [];
  for (let i = 0; i < n; i++) {
    const id = r.fixed(32);
    if (i > 0 && compare(ids[i - 1]!, id) >= 0) throw new Rejection(Reason.NON_CANONICAL, 'done ids not sorted and distinct');
    ids.push(id);
  }
  return ids;
}

export function writeMessage(w: Writer, m: Message): void {
  w.u8(MessageTag[m.type]);
  switch (m.type) {
    case 'vote-request': return writeTransfer(w, m.transfer);
    case 'vote': return writeVote(w, m.vote);
    case 'reject': w.fixed(m.transferId, 32).string(m.code).var(detailBytes(m.detail)); return;
    case 'conflict': w.fixed(m.transferId, 32); return writeTransfer(w, m.locked);
    case 'certified': return writeCertificate(w, m.certificate);
    case 'credit-request': return writeCertificate(w, m.certificate);
    case 'receipt': return writeReceipt(w, m.receipt);
    case 'store': writeBundle(w, m.bundle); w.bool(m.ack); return;
    case 'stored': w.fixed(m.transferId, 32); return;
    case 'lookup': w.fixed(m.transferId, 32); return;
    case 'lookup-reply':
      w.fixed(m.transferId, 32).bool(m.bundle !== null);
      if (m.bundle) writeBundle(w, m.bundle);
      return;
    case 'account-pull': w.fixed(m.account, 32).u64n(m.epoch); return;
    case 'account-state': AccountStateCodec.write(w, m.state); w.u64n(m.epoch); return;
    case 'digest': return DigestCodec.write(w, m.digest);
    case 'submit': return writeTransfer(w, m.transfer);
    case 'done': return writeDone(w, m.transferIds);
    case 'notice':
      writeNotice(w, m.notice);
      w.bool(m.proof !== undefined);
      if (m.proof !== undefined) writeCertificate(w, m.proof);
      return;
    case 'join': return writeJoin(w, m.join);
    case 'alert': return writeAlert(w, m.alert);
    case 'repudiation': return writeRepudiation(w, m.repudiation);
    case 'epoch': return writeEpoch(w, m.record);
    case 'epoch-request': w.u64n(m.from); return;
    case 'reachability': return writeReachability(w, m.report);
  }
}

export function readMessage(r: Reader): Message {
  const tag = r.u8();
  const type = typeByTag.get(tag);
  switch (type) {
    case 'vote-request': return { type, transfer: readTransfer(r) };
    case 'vote': return { type, vote: readVote(r) };
    case 'reject': {
      const transferId = r.fixed(32);
      const code = r.string(32);
      if (!reasonCodes.has(code)) throw new Rejection(Reason.MALFORMED, `unknown reason code ${code}`);
      return { type, transferId, code: code as ReasonCode, detail: r.string(Limits.REASON_BYTES) };
    }
    case 'conflict': return { type, transferId: r.fixed(32), locked: readTransfer(r) };
    case 'certified': return { type, certificate: readCertificate(r) };
    case 'credit-request': return { type, certificate: readCertificate(r) };
    case 'receipt': return { type, receipt: readReceipt(r) };
    case 'store': return { type, bundle: readBundle(r), ack: r.bool() };
    case 'stored': return { type, transferId: r.fixed(32) };
    case 'lookup': return { type, transferId: r.fixed(32) };
    case 'lookup-reply': {
      const transferId = r.fixed(32);
      return { type, transferId, bundle: r.bool() ? readBundle(r) : null };
    }
    case 'account-pull': return { type, account: r.fixed(32), epoch: r.u64n() };
    case 'account-state': return { type, state: AccountStateCodec.read(r), epoch: r.u64n() };
    case 'digest': return { type, digest: DigestCodec.read(r) };
    case 'submit': return { type, transfer: readTransfer(r) };
    case 'done': return { type, transferIds: readDone(r) };
    case 'notice': {
      const notice = readNotice(r);
      return r.bool() ? { type, notice, proof: readCertificate(r) } : { type, notice };
    }
    case 'join': return { type, join: readJoin(r) };
    case 'alert': return { type, alert: readAlert(r) };
    case 'repudiation': return { type, repudiation: readRepudiation(r) };
    case 'epoch': return { type, record: readEpoch(r) };
    case 'epoch-request': return { type, from: r.u64n() };
    case 'reachability': return { type, report: readReachability(r) };
    case undefined: throw new Rejection(Reason.MALFORMED, `unknown message tag ${tag}`);
  }
}

// Encoded sizes by arithmetic, for drivers that count bytes without sending them
// (the simulator). test/sim/message-size.test.ts checks them against encodeMessage
// for every message type.
const TRANSFER_FIXED = 32 + 32 + 8 + 8 + 32 + 2 + 64;
// Votes and receipts: body, then u8 depth and a signature of 64 bytes (plain) or more (batch).
const VOTE_BODY = 32 + 32 + 8 + 8 + 32 + 1;
const RECEIPT_BODY = 32 + 32 + 8 + 8 + 32 + 1;
const voteSize = (v: Vote) => VOTE_BODY + finalSignature(v.sig).length;
const receiptSize = (x: Receipt) => RECEIPT_BODY + finalSignature(x.sig).length;
function votesSize(vs: readonly Vote[]): number {
  let n = 0;
  for (let i = 0; i < vs.length; i++) n += voteSize(vs[i]!);
  return n;
}
function receiptsSize(xs: readonly Receipt[]): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) n += receiptSize(xs[i]!);
  return n;
}

function transferSize(t: Transfer): number {
  return TRANSFER_FIXED + t.memo.length;
}
function certificateSize(c: Certificate): number {
  return transferSize(c.transfer) + 1 + votesSize(c.votes);
}
function bundleSize(b: Bundle): number {
  return certificateSize(b.certificate) + 1 + receiptsSize(b.receipts);
}

/** encodeMessage(m).length, computed from field lengths for the frequent types (no encoding). */
export function messageSize(m: Message): number {
  switch (m.type) {
    case 'vote-request':
    case 'submit': return 1 + transferSize(m.transfer);
    case 'vote': return 1 + voteSize(m.vote);
    case 'receipt': return 1 + receiptSize(m.receipt);
    case 'conflict': return 1 + 32 + transferSize(m.locked);
    case 'certified':
    case 'credit-request': return 1 + certificateSize(m.certificate);
    case 'store': return 1 + bundleSize(m.bundle) + 1;
    case 'stored':
    case 'lookup': return 1 + 32;
    case 'lookup-reply': return 1 + 32 + 1 + (m.bundle ? bundleSize(m.bundle) : 0);
    case 'account-pull': return 1 + 32 + 8;
    case 'digest': return 1 + 1 + 8 + 2 + 64 * m.digest.entries.length;
    case 'done': return 1 + 2 + 32 * m.transferIds.length;
    default: return encodeMessage(m).length; // rare: handoff states, notices, alerts, epochs
  }
}

export function encodeMessage(m: Message): Bytes {
  return encodeWith(m, writeMessage);
}

/** Strict decode of one message for `network`; epoch records may be larger than other messages. */
export function decodeMessage(network: string, bytes: Bytes): Message {
  const max = bytes[0] === MessageTag.epoch ? Limits.EPOCH_RECORD_BYTES : undefined;
  return decodeWith(network, bytes, readMessage, max);
}
