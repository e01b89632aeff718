// Ledger objects of protocol.md §4: their types, canonical layouts and wire encoding.
// Signing payloads, signatures and ids are in signing.ts (re-exported here, so
// callers import every ledger-object function from this one module).
import { Reason, Rejection } from './errors.ts';
import { compare, toHex, type Bytes } from './bytes.ts';
import { Memo } from './memo.ts';
import { Reader, Writer, decodeAll, type BodyCodec } from './codec.ts';
import { boundId, cachedPayload, giveScratch, setNetwork, takeScratch } from './signing.ts';
import { batchDepth, canonicalBatchSignature, finalSignature, MAX_BATCH_DEPTH } from './batch-signature.ts';

export { bindNetwork, cachePayload, payload, payloadBuffer, sign, slabCopy, usePayloadSlabs, verify } from './signing.ts';

/** Limits, each with its reason. */
export const Limits = {
  /** protocol.md §4: a memo is at most 64 bytes. */
  MEMO_BYTES: 64,
  /** A network id is a short name chosen at genesis. */
  NETWORK_BYTES: 32,
  /** Votes or receipts in one certificate or bundle: k is a u8. */
  QUORUM_ITEMS: 255,
  /** Members of one epoch; epoch records are fetched whole, so they may exceed MAX_MESSAGE_BYTES. */
  EPOCH_MEMBERS: 1_000_000,
  /** Bytes of an epoch record: 1M members of 32 bytes plus the header. */
  EPOCH_RECORD_BYTES: 33 * 1024 * 1024,
  /** Reason text in a repudiation or rejection. */
  REASON_BYTES: 256,
} as const;

export type Transfer = {
  readonly from: Bytes;
  readonly to: Bytes;
  readonly amount: bigint;
  readonly seq: number;
  readonly prev: Bytes;
  readonly memo: Bytes;
  readonly sig: Bytes;
};
export type TransferBody = Omit<Transfer, 'sig'>;

export type Vote = {
  readonly transferId: Bytes;
  readonly from: Bytes;
  readonly seq: number;
  readonly epoch: number;
  readonly voter: Bytes;
  readonly sig: Bytes;
};
export type VoteBody = Omit<Vote, 'sig'>;

export type Receipt = {
  readonly transferId: Bytes;
  readonly to: Bytes;
  readonly amount: bigint;
  readonly epoch: number;
  readonly custodian: Bytes;
  readonly sig: Bytes;
};
export type ReceiptBody = Omit<Receipt, 'sig'>;

export type Certificate = { readonly transfer: Transfer; readonly votes: readonly Vote[] };
export type Bundle = { readonly certificate: Certificate; readonly receipts: readonly Receipt[] };

export type EpochRecord = {
  readonly network: string;
  readonly epoch: number;
  /** Node ids (32-byte Ed25519 public keys), sorted ascending, distinct. */
  readonly members: readonly Bytes[];
  readonly k: number;
  readonly q: number;
  /** Hash of the previous epoch record's payload; zeros for epoch 0. */
  readonly prev: Bytes;
  /** Milliseconds since the Unix epoch, by the mint's clock. */
  readonly issuedAt: number;
  readonly sig: Bytes;
};
export type EpochBody = Omit<EpochRecord, 'sig'>;

export type Evidence =
  | { readonly kind: 'double-spend'; readonly t1: Transfer; readonly t2: Transfer }
  | { readonly kind: 'equivocation'; readonly v1: Vote; readonly v2: Vote };

export type Notice = { readonly evidence: Evidence; readonly reporter: Bytes; readonly sig: Bytes };
export type NoticeBody = Omit<Notice, 'sig'>;

export type Alert = { readonly notice: Notice; readonly alertSeq: number; readonly sig: Bytes };
export type AlertBody = Omit<Alert, 'sig'>;

export type Repudiation = { readonly noticeHash: Bytes; readonly reason: string; readonly reporter: Bytes; readonly sig: Bytes };
export type RepudiationBody = Omit<Repudiation, 'sig'>;

export type JoinRequest = { readonly node: Bytes; readonly addrs: readonly string[]; readonly issuedAt: number; readonly sig: Bytes };
export type JoinBody = Omit<JoinRequest, 'sig'>;

// ---------------------------------------------------------------- body layouts

export type { BodyCodec } from './codec.ts';

function memoOk(memo: Bytes): void {
  if (memo.length > Limits.MEMO_BYTES) throw new Rejection(Reason.BAD_MEMO, `memo of ${memo.length} bytes exceeds ${Limits.MEMO_BYTES}`);
}

/** Largest var field the layout can hold (u16 length); the memo rule is checked after reading it. */
const VAR_MAX = 0xffff;

export const TransferCodec: BodyCodec<TransferBody> = {
  keepsPayload: true,
  tag: 'transfer',
  write(w, t) {
    memoOk(t.memo);
    // protocol.md §4: amount > 0. Refusing here means no code path can sign a zero transfer.
    if (t.amount <= 0n) throw new Rejection(Reason.BAD_AMOUNT, 'amount must be positive');
    w.fixed(t.from, 32).fixed(t.to, 32).u64(t.amount).u64n(t.seq).fixed(t.prev, 32).var(t.memo);
  },
  read(r) {
    const body = { from: r.fixed(32), to: r.fixed(32), amount: r.u64(), seq: r.u64n(), prev: r.fixed(32), memo: r.var(VAR_MAX) };
    memoOk(body.memo); // the same BAD_MEMO whether a long memo is signed here or arrives on the wire
    return body;
  },
};

export const VoteCodec: BodyCodec<VoteBody> = {
  tag: 'vote',
  batchable: true,
  write(w, v) {
    w.fixed(v.transferId, 32).fixed(v.from, 32).u64n(v.seq).u64n(v.epoch).fixed(v.voter, 32);
  },
  read(r) {
    return { transferId: r.fixed(32), from: r.fixed(32), seq: r.u64n(), epoch: r.u64n(), voter: r.fixed(32) };
  },
};

export const ReceiptCodec: BodyCodec<ReceiptBody> = {
  tag: 'receipt',
  batchable: true,
  write(w, x) {
    w.fixed(x.transferId, 32).fixed(x.to, 32).u64(x.amount).u64n(x.epoch).fixed(x.custodian, 32);
  },
  read(r) {
    return { transferId: r.fixed(32), to: r.fixed(32), amount: r.u64(), epoch: r.u64n(), custodian: r.fixed(32) };
  },
};

export const EpochCodec: BodyCodec<EpochBody> = {
  tag: 'epoch',
  write(w, e) {
    w.string(e.network).u64n(e.epoch).u32(e.members.length);
    for (let i = 0; i < e.members.length; i++) {
      if (i > 0 && compare(e.members[i - 1]!, e.members[i]!) >= 0) throw new RangeError('epoch members must be sorted and distinct');
      w.fixed(e.members[i]!, 32);
    }
    w.u8(e.k).u8(e.q).fixed(e.prev, 32).u64n(e.issuedAt);
  },
  read(r) {
    const network = r.string(Limits.NETWORK_BYTES);
    const epoch = r.u64n();
    const n = r.u32();
    if (n > Limits.EPOCH_MEMBERS) throw new Rejection(Reason.OVERSIZED, `epoch of ${n} members`);
    const members: Bytes[] = [];
    for (let i = 0; i < n; i++) {
      const m = r.fixed(32);
      if (i > 0 && compare(members[i - 1]!, m) >= 0) throw new Rejection(Reason.NON_CANONICAL, 'epoch members not sorted and distinct');
      members.push(m);
    }
    return { network, epoch, members, k: r.u8(), q: r.u8(), prev: r.fixed(32), issuedAt: r.u64n() };
  },
};

/** Written in canonical order (lower id first) whatever order it was built in, so it always decodes. */
function writeEvidence(w: Writer, e: Evidence): void {
  if (e.kind === 'double-spend') {
    const c = doubleSpendEvidence(e.t1, e.t2) as Extract<Evidence, { kind: 'double-spend' }>;
    w.u8(1);
    writeTransfer(w, c.t1);
    writeTransfer(w, c.t2);
  } else {
    const c = equivocationEvidence(e.v1, e.v2) as Extract<Evidence, { kind: 'equivocation' }>;
    w.u8(2);
    writeVote(w, c.v1);
    writeVote(w, c.v2);
  }
}

function readEvidence(r: Reader): Evidence {
  const kind = r.u8();
  if (kind === 1) {
    const t1 = readTransfer(r);
    const t2 = readTransfer(r);
    if (compare(transferId(t1), transferId(t2)) >= 0) throw new Rejection(Reason.NON_CANONICAL, 'evidence transfers must be ordered by id');
    return { kind: 'double-spend', t1, t2 };
  }
  if (kind === 2) {
    const v1 = readVote(r);
    const v2 = readVote(r);
    if (compare(v1.transferId, v2.transferId) >= 0) throw new Rejection(Reason.NON_CANONICAL, 'evidence votes must be ordered by transfer id');
    return { kind: 'equivocation', v1, v2 };
  }
  throw new Rejection(Reason.MALFORMED, `unknown evidence kind ${kind}`);
}

/** Builds evidence in its canonical order (lower id first). */
export function doubleSpendEvidence(a: Transfer, b: Transfer): Evidence {
  return compare(transferId(a), transferId(b)) < 0 ? { kind: 'double-spend', t1: a, t2: b } : { kind: 'double-spend', t1: b, t2: a };
}
export function equivocationEvidence(a: Vote, b: Vote): Evidence {
  return compare(a.transferId, b.transferId) < 0 ? { kind: 'equivocation', v1: a, v2: b } : { kind: 'equivocation', v1: b, v2: a };
}

export const NoticeCodec: BodyCodec<NoticeBody> = {
  tag: 'notice',
  write(w, n) {
    writeEvidence(w, n.evidence);
    w.fixed(n.reporter, 32);
  },
  read(r) {
    return { evidence: readEvidence(r), reporter: r.fixed(32) };
  },
};

export const AlertCodec: BodyCodec<AlertBody> = {
  tag: 'alert',
  write(w, a) {
    writeNotice(w, a.notice);
    w.u64n(a.alertSeq);
  },
  read(r) {
    return { notice: readNotice(r), alertSeq: r.u64n() };
  },
};

export const RepudiationCodec: BodyCodec<RepudiationBody> = {
  tag: 'repudiation',
  write(w, x) {
    w.fixed(x.noticeHash, 32).string(x.reason).fixed(x.reporter, 32);
  },
  read(r) {
    return { noticeHash: r.fixed(32), reason: r.string(Limits.REASON_BYTES), reporter: r.fixed(32) };
  },
};

export const JoinCodec: BodyCodec<JoinBody> = {
  tag: 'join',
  write(w, j) {
    w.fixed(j.node, 32).u16(j.addrs.length);
    for (const a of j.addrs) w.string(a);
    w.u64n(j.issuedAt);
  },
  read(r) {
    const node = r.fixed(32);
    const n = r.count(16);
    const addrs: string[] = [];
    for (let i = 0; i < n; i++) addrs.push(r.string(256));
    return { node, addrs, issuedAt: r.u64n() };
  },
};

// ---------------------------------------------------------------- ids (SHA-256 of the signing payload, signing.ts)

export function transferId(t: Transfer): Bytes {
  return boundId(TransferCodec, t);
}
export function voteId(v: Vote): Bytes {
  return boundId(VoteCodec, v);
}
export function receiptId(x: Receipt): Bytes {
  return boundId(ReceiptCodec, x);
}
export function noticeHash(n: Notice): Bytes {
  return boundId(NoticeCodec, n);
}
export function epochHash(e: EpochRecord): Bytes {
  return boundId(EpochCodec, e);
}
export function transferIdHex(t: Transfer): string {
  return toHex(transferId(t));
}

// ---------------------------------------------------------------- wire encoding of signed objects

function writeSigned<B>(codec: BodyCodec<B>, w: Writer, obj: B & { sig: Bytes }): void {
  // An object whose payload was already written (signed or verified here) has its body bytes at hand.
  const cached = cachedPayload(obj);
  if (cached !== undefined) w.raw(cached.payload.subarray(cached.body));
  else codec.write(w, obj);
  const sig = finalSignature(obj.sig);
  if (codec.batchable !== true) {
    w.fixed(sig, 64);
    return;
  }
  const depth = batchDepth(sig);
  if (depth < 0) throw new RangeError(`a ${codec.tag} signature of ${sig.length} bytes`);
  w.u8(depth).raw(sig);
}

function readBatchableSignature(r: Reader): Bytes {
  const depth = r.u8();
  if (depth > MAX_BATCH_DEPTH) throw new Rejection(Reason.NON_CANONICAL, `batch signature depth ${depth}`);
  const sig = r.fixed(depth === 0 ? 64 : 64 + 2 + 32 * depth);
  if (!canonicalBatchSignature(sig)) throw new Rejection(Reason.NON_CANONICAL, 'batch signature index out of range');
  return sig;
}

function readSigned<B>(codec: BodyCodec<B>, r: Reader): B & { sig: Bytes } {
  const body = codec.read(r);
  const obj = { ...body, sig: codec.batchable === true ? readBatchableSignature(r) : r.fixed(64) };
  setNetwork(obj, r.network);
  return obj;
}

export function writeTransfer(w: Writer, t: Transfer): void {
  writeSigned(TransferCodec, w, t);
}
export function readTransfer(r: Reader): Transfer {
  const t = readSigned(TransferCodec, r);
  if (t.amount === 0n) throw new Rejection(Reason.BAD_AMOUNT, 'amount must be positive');
  if (t.seq < 1) throw new Rejection(Reason.MALFORMED, 'seq starts at 1');
  return t;
}
export function writeVote(w: Writer, v: Vote): void {
  writeSigned(VoteCodec, w, v);
}
export function readVote(r: Reader): Vote {
  return readSigned(VoteCodec, r);
}
export function writeReceipt(w: Writer, x: Receipt): void {
  writeSigned(ReceiptCodec, w, x);
}
export function readReceipt(r: Reader): Receipt {
  return readSigned(ReceiptCodec, r);
}
export function writeNotice(w: Writer, n: Notice): void {
  writeSigned(NoticeCodec, w, n);
}
export function readNotice(r: Reader): Notice {
  return readSigned(NoticeCodec, r);
}
export function writeAlert(w: Writer, a: Alert): void {
  writeSigned(AlertCodec, w, a);
}
export function readAlert(r: Reader): Alert {
  return readSigned(AlertCodec, r);
}
export function writeRepudiation(w: Writer, x: Repudiation): void {
  writeSigned(RepudiationCodec, w, x);
}
export function readRepudiation(r: Reader): Repudiation {
  return readSigned(RepudiationCodec, r);
}
export function writeJoin(w: Writer, j: JoinRequest): void {
  writeSigned(JoinCodec, w, j);
}
export function readJoin(r: Reader): JoinRequest {
  return readSigned(JoinCodec, r);
}
export function writeEpoch(w: Writer, e: EpochRecord): void {
  writeSigned(EpochCodec, w, e);
}
/**
 * An epoch record names its own network: it must be the one being read, and its
 * hash (the next record's prev) is taken under that network.
 */
export function readEpoch(r: Reader): EpochRecord {
  const e = readSigned(EpochCodec, r);
  if (r.network !== '' && e.network !== r.network) {
    throw new Rejection(Reason.WRONG_NETWORK, `epoch record of network "${e.network}", expected "${r.network}"`);
  }
  setNetwork(e, e.network);
  return e;
}

/**
 * The bytes a certificate or bundle was decoded from (a view into its message). The
 * codec is canonical (protocol.md §2: one encoding per value, anything else refused), so
 * encoding the object again gives these bytes: a node stores and forwards the bundles
 * and certificates it receives, and writing them field by field was ~3 % of its CPU.
 * Objects are never mutated once built; a copy starts without the memo.
 */
const decodedFrom = new Memo<Bytes>('decodedFrom');

/** The encoding a certificate or bundle was decoded from, if it was decoded here. */
export function decodedEncoding(obj: Certificate | Bundle): Bytes | undefined {
  return decodedFrom.get(obj);
}

/** Votes in a certificate and receipts in a bundle are sorted by signer: one encoding per set. */
export function writeCertificate(w: Writer, c: Certificate): void {
  const decoded = decodedFrom.get(c);
  if (decoded !== undefined) {
    w.raw(decoded);
    return;
  }
  writeTransfer(w, c.transfer);
  const votes = [...c.votes].sort((a, b) => compare(a.voter, b.voter));
  w.u8(votes.length);
  for (const v of votes) writeVote(w, v);
}
export function readCertificate(r: Reader): Certificate {
  const start = r.offset;
  const transfer = readTransfer(r);
  const n = r.u8();
  const votes: Vote[] = [];
  for (let i = 0; i < n; i++) {
    const v = readVote(r);
    if (i > 0 && compare(votes[i - 1]!.voter, v.voter) >= 0) throw new Rejection(Reason.NON_CANONICAL, 'votes not sorted by voter');
    votes.push(v);
  }
  const c = { transfer, votes };
  decodedFrom.set(c, r.bytes.subarray(start, r.offset));
  return c;
}
export function writeBundle(w: Writer, b: Bundle): void {
  const decoded = decodedFrom.get(b);
  if (decoded !== undefined) {
    w.raw(decoded);
    return;
  }
  writeCertificate(w, b.certificate);
  const receipts = [...b.receipts].sort((a, c) => compare(a.custodian, c.custodian));
  w.u8(receipts.length);
  for (const x of receipts) writeReceipt(w, x);
}
export function readBundle(r: Reader): Bundle {
  const start = r.offset;
  const certificate = readCertificate(r);
  const n = r.u8();
  const receipts: Receipt[] = [];
  for (let i = 0; i < n; i++) {
    const x = readReceipt(r);
    if (i > 0 && compare(receipts[i - 1]!.custodian, x.custodian) >= 0) throw new Rejection(Reason.NON_CANONICAL, 'receipts not sorted by custodian');
    receipts.push(x);
  }
  const b = { certificate, receipts };
  decodedFrom.set(b, r.bytes.subarray(start, r.offset));
  return b;
}

/**
 * Decodes a whole buffer of one object kind for `network`. The network is not in
 * the object's bytes (it is in every signed payload), so the reader supplies it.
 */
export function decodeWith<T>(network: string, bytes: Bytes, read: (r: Reader) => T, maxBytes?: number): T {
  if (maxBytes !== undefined) {
    const r = new Reader(bytes, maxBytes, network);
    const v = read(r);
    r.end();
    return v;
  }
  return decodeAll(bytes, read, network);
}

export function encodeWith<T>(value: T, write: (w: Writer, v: T) => void): Bytes {
  const w = takeScratch();
  try {
    write(w, value);
    return w.finish();
  } finally {
    giveScratch(w);
  }
}
