// Ledger objects: the signed payload layout, ids, domain separation, and the
// rules every decoder enforces (memo, amount, seq, evidence order).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { concat, fromHex, toHex, utf8, ZERO32 } from '../../protocol/bytes.ts';
import { Writer } from '../../protocol/codec.ts';
import { ed25519 } from '../../protocol/signature.ts';
import {
  bindNetwork, decodeWith, doubleSpendEvidence, encodeWith, equivocationEvidence, EpochCodec, NoticeCodec, payload, readNotice,
  readReceipt, readTransfer, readVote, ReceiptCodec, sign, transferId, TransferCodec, verify, VoteCodec, voteId, writeNotice, writeReceipt, writeTransfer, writeVote,
  type Evidence, type Notice, type Receipt, type Transfer,
} from '../../protocol/objects.ts';
import { cachedPayload } from '../../protocol/signing.ts';
import { codeOf, keyOf, NET, receipt, transfer, vote } from './vectors/fixtures.ts';

const alice = keyOf('alice');
const bob = keyOf('bob');

const ALICE = 'd5bf4a3fcce717b0388bcc2749ebc148ad9969b23f45ee1b605fd58778576ac4';
const BOB = 'ecc1b58727f3f12b3194881a9ecb9de0b28ce7b207230d8e930fe1bce75e256c';
/** sha256 of the payload below: pinned so any change to the layout shows. */
const LUNCH_ID = '1bde9eddc362fa1e5d7b9bb453224f0eb72db02113d671863f1228a936e32616';
const LUNCH_VOTE_ID = '55603aa708f94296d8c989e67bf26fe08efb06a569697e5a9888da727caa5a15';

function lunch(): Transfer {
  return transfer(alice, bob.publicKey, 1000n, 1, ZERO32, utf8('lunch'));
}

function hexVar(s: string): string {
  return Buffer.byteLength(s).toString(16).padStart(4, '0') + Buffer.from(s).toString('hex');
}

test('fixture keys are what the pins assume', () => {
  assert.is(toHex(alice.publicKey), ALICE);
  assert.is(toHex(bob.publicKey), BOB);
});

test('known answer: the payload is var(tag) ‖ var(network) ‖ body, and the id is its SHA-256', () => {
  const t = lunch();
  const expected =
    hexVar('ringmint/1/transfer') + hexVar('testnet') + ALICE + BOB + '00000000000003e8' + '0000000000000001' + '00'.repeat(32) + hexVar('lunch');
  const p = payload(TransferCodec, NET, t);
  assert.is(toHex(p), expected);
  assert.is(toHex(createHash('sha256').update(p).digest()), LUNCH_ID);
  assert.is(toHex(transferId(t)), LUNCH_ID);
  assert.ok(verify(TransferCodec, NET, ed25519, alice.publicKey, t));
  assert.ok(ed25519.verify(alice.publicKey, p, t.sig));
});

test('known answer: a vote id', () => {
  const c1 = keyOf('c1');
  const v = vote(c1, lunch(), 0);
  const expected = hexVar('ringmint/1/vote') + hexVar('testnet') + LUNCH_ID + ALICE + '0000000000000001' + '0000000000000000' + toHex(c1.publicKey);
  assert.is(toHex(payload(VoteCodec, NET, v)), expected);
  assert.is(toHex(voteId(v)), LUNCH_VOTE_ID);
});

test('the id does not depend on the signature bytes (malleability cannot change an id)', () => {
  const t = lunch();
  const forged = bindNetwork({ ...t, sig: new Uint8Array(64).fill(9) }, NET);
  assert.is(toHex(transferId(forged)), LUNCH_ID);
  assert.not.ok(verify(TransferCodec, NET, ed25519, alice.publicKey, forged));
  // And a decoded copy (fresh object, no caches) has the same id.
  const back = decodeWith(NET, encodeWith(t, writeTransfer), readTransfer);
  assert.is(toHex(transferId(back)), LUNCH_ID);
});

test('the id depends on the network: the same body on another network is another object', () => {
  const t = lunch();
  const other = transfer(alice, bob.publicKey, 1000n, 1, ZERO32, utf8('lunch'), 'othernet');
  assert.is.not(toHex(transferId(other)), LUNCH_ID);
  assert.is(toHex(transferId(bindNetwork({ ...other }, NET))), LUNCH_ID);
  // Rebinding an object must not reuse the id cached under the old network.
  const copy = bindNetwork({ ...t }, NET);
  assert.is(toHex(transferId(copy)), LUNCH_ID);
  bindNetwork(copy, 'othernet');
  assert.is(toHex(transferId(copy)), toHex(transferId(other)));
});

test('domain separation: a vote signature never verifies as a receipt, though the bodies are byte-identical', () => {
  const c1 = keyOf('c1');
  const v = vote(c1, lunch(), 5);
  const asReceipt: Receipt = { transferId: v.transferId, to: v.from, amount: BigInt(v.seq), epoch: v.epoch, custodian: v.voter, sig: v.sig };
  const voteBody = encodeWith(v, (w, x) => VoteCodec.write(w, x));
  const receiptBody = encodeWith(asReceipt, (w, x) => ReceiptCodec.write(w, x));
  assert.is(toHex(receiptBody), toHex(voteBody)); // only the tag tells them apart
  assert.ok(verify(VoteCodec, NET, ed25519, c1.publicKey, v));
  assert.not.ok(verify(ReceiptCodec, NET, ed25519, c1.publicKey, asReceipt));
});

test('a decoded vote or receipt verifies from scratch bytes (nothing cached) exactly as a signed one does', () => {
  const c1 = keyOf('c1');
  const t = lunch();
  const v = vote(c1, t, 3);
  const x = receipt(c1, t, 3);
  const v2 = decodeWith(NET, encodeWith(v, writeVote), readVote);
  const x2 = decodeWith(NET, encodeWith(x, writeReceipt), readReceipt);
  assert.is(cachedPayload(v2), undefined);
  assert.ok(verify(VoteCodec, NET, ed25519, c1.publicKey, v2));
  assert.ok(verify(ReceiptCodec, NET, ed25519, c1.publicKey, x2));
  // The scratch path leaves no memo behind, and its payload is the signed one's, byte for byte.
  assert.is(cachedPayload(v2), undefined);
  assert.is(toHex(payload(VoteCodec, NET, v2)), toHex(payload(VoteCodec, NET, v)));
  // Any altered field, another key, network or domain still fails.
  const v3 = decodeWith(NET, encodeWith({ ...v, seq: v.seq + 1 }, writeVote), readVote);
  assert.not.ok(verify(VoteCodec, NET, ed25519, c1.publicKey, v3));
  assert.not.ok(verify(VoteCodec, NET, ed25519, keyOf('c2').publicKey, decodeWith(NET, encodeWith(v, writeVote), readVote)));
  assert.not.ok(verify(VoteCodec, 'testnet2', ed25519, c1.publicKey, decodeWith(NET, encodeWith(v, writeVote), readVote)));
  const d = decodeWith(NET, encodeWith(v, writeVote), readVote);
  assert.not.ok(verify(ReceiptCodec, NET, ed25519, c1.publicKey, { transferId: d.transferId, to: d.from, amount: BigInt(d.seq), epoch: d.epoch, custodian: d.voter, sig: d.sig }));
  // A verifier that keeps the message it was handed gets the object's own payload, never a scratch view.
  let kept: Uint8Array | null = null;
  const keeper = { keepsMessage: true, verify: (k: Uint8Array, m: Uint8Array, s: Uint8Array) => ((kept = m), ed25519.verify(k, m, s)) };
  const v4 = decodeWith(NET, encodeWith(v, writeVote), readVote);
  assert.ok(verify(VoteCodec, NET, keeper, c1.publicKey, v4));
  assert.is(kept, cachedPayload(v4)?.payload);
});

test('domain separation: another network id fails verification', () => {
  const t = lunch();
  const v = vote(keyOf('c1'), t);
  assert.not.ok(verify(TransferCodec, 'othernet', ed25519, alice.publicKey, t));
  assert.not.ok(verify(VoteCodec, 'testnet2', ed25519, keyOf('c1').publicKey, v));
  assert.not.ok(verify(TransferCodec, NET, ed25519, bob.publicKey, t));
  // The tag and the network are length-prefixed: "testnet" + "x…" cannot be shifted into the body.
  assert.is.not(toHex(payload(TransferCodec, 'testnetx', t)).slice(0, 60), toHex(payload(TransferCodec, NET, t)).slice(0, 60));
});

test('a memo over 64 bytes is BAD_MEMO, at signing and on the wire; 64 is fine', () => {
  assert.is(codeOf(() => transfer(alice, bob.publicKey, 1n, 1, ZERO32, new Uint8Array(65))), 'BAD_MEMO');
  const ok = transfer(alice, bob.publicKey, 1n, 1, ZERO32, new Uint8Array(64).fill(0x61));
  const bytes = encodeWith(ok, writeTransfer);
  assert.is(decodeWith(NET, bytes, readTransfer).memo.length, 64);
  // Hand-write the same transfer with a 65-byte memo.
  const w = new Writer().fixed(alice.publicKey, 32).fixed(bob.publicKey, 32).u64(1n).u64n(1).fixed(ZERO32, 32).var(new Uint8Array(65)).fixed(new Uint8Array(64), 64);
  assert.is(codeOf(() => decodeWith(NET, w.finish(), readTransfer)), 'BAD_MEMO');
});

test('amount 0 is BAD_AMOUNT at signing and on the wire; seq 0 is MALFORMED', () => {
  assert.is(codeOf(() => transfer(alice, bob.publicKey, 0n)), 'BAD_AMOUNT');
  const raw = (amount: bigint, seq: number) =>
    new Writer().fixed(alice.publicKey, 32).fixed(bob.publicKey, 32).u64(amount).u64n(seq).fixed(ZERO32, 32).var(new Uint8Array(0)).fixed(new Uint8Array(64), 64).finish();
  assert.is(codeOf(() => decodeWith(NET, raw(0n, 1), readTransfer)), 'BAD_AMOUNT');
  assert.is(codeOf(() => decodeWith(NET, raw(1n, 0), readTransfer)), 'MALFORMED');
  assert.is(codeOf(() => decodeWith(NET, raw(1n, 1), readTransfer)), 'NO THROW');
});

function notice(evidence: Evidence): Notice {
  return sign(NoticeCodec, NET, keyOf('reporter'), { evidence, reporter: keyOf('reporter').publicKey });
}

test('double-spend evidence is in canonical order (lower id first), however it was built', () => {
  const t1 = transfer(alice, bob.publicKey, 10n, 1);
  const t2 = transfer(alice, keyOf('carol').publicKey, 10n, 1);
  const e1 = doubleSpendEvidence(t1, t2);
  const e2 = doubleSpendEvidence(t2, t1);
  assert.equal(e1, e2);
  assert.ok(e1.kind === 'double-spend' && toHex(transferId(e1.t1)) < toHex(transferId(e1.t2)));
  // A notice built with the pair reversed still encodes canonically, signs the same payload, and decodes.
  const reversed: Evidence = e1.kind === 'double-spend' ? { kind: 'double-spend', t1: e1.t2, t2: e1.t1 } : e1;
  const a = notice(e1);
  const b = notice(reversed);
  assert.is(toHex(encodeWith(a, writeNotice)), toHex(encodeWith(b, writeNotice)));
  const back = decodeWith(NET, encodeWith(b, writeNotice), readNotice);
  assert.equal(back.evidence, e1);
  assert.ok(verify(NoticeCodec, NET, ed25519, keyOf('reporter').publicKey, back));
});

test('evidence out of order, or one transfer twice, is NON_CANONICAL on the wire', () => {
  const t1 = transfer(alice, bob.publicKey, 10n, 1);
  const t2 = transfer(alice, keyOf('carol').publicKey, 10n, 1);
  const e = doubleSpendEvidence(t1, t2) as Extract<Evidence, { kind: 'double-spend' }>;
  const handWritten = (first: Transfer, second: Transfer) => {
    const w = new Writer().u8(1);
    writeTransfer(w, first);
    writeTransfer(w, second);
    return w.fixed(ZERO32, 32).fixed(new Uint8Array(64), 64).finish();
  };
  assert.is(codeOf(() => decodeWith(NET, handWritten(e.t1, e.t2), readNotice)), 'NO THROW');
  assert.is(codeOf(() => decodeWith(NET, handWritten(e.t2, e.t1), readNotice)), 'NON_CANONICAL');
  assert.is(codeOf(() => decodeWith(NET, handWritten(e.t1, e.t1), readNotice)), 'NON_CANONICAL');
  const unknownKind = handWritten(e.t1, e.t2);
  unknownKind[0] = 3;
  assert.is(codeOf(() => decodeWith(NET, unknownKind, readNotice)), 'MALFORMED');
});

test('equivocation evidence is ordered by transfer id', () => {
  const c1 = keyOf('c1');
  const v1 = vote(c1, transfer(alice, bob.publicKey, 10n, 1));
  const v2 = vote(c1, transfer(alice, keyOf('carol').publicKey, 10n, 1));
  const e = equivocationEvidence(v2, v1);
  assert.equal(e, equivocationEvidence(v1, v2));
  assert.ok(e.kind === 'equivocation' && toHex(e.v1.transferId) < toHex(e.v2.transferId));
  const n = notice({ kind: 'equivocation', v1: (e as { v2: typeof v1 }).v2, v2: (e as { v1: typeof v1 }).v1 });
  const back = decodeWith(NET, encodeWith(n, writeNotice), readNotice);
  assert.equal(back.evidence, e);
});

test('epoch members must be sorted and distinct to be signed', () => {
  const m = [keyOf('n1').publicKey, keyOf('n2').publicKey].sort((a, b) => (toHex(a) < toHex(b) ? -1 : 1));
  const body = { network: NET, epoch: 0, members: [m[1]!, m[0]!], k: 1, q: 1, prev: ZERO32, issuedAt: 0 };
  assert.throws(() => sign(EpochCodec, NET, keyOf('mint'), body), RangeError);
  assert.throws(() => sign(EpochCodec, NET, keyOf('mint'), { ...body, members: [m[0]!, m[0]!] }), RangeError);
});

test('ids of fixed payloads are stable across fresh objects (no hidden state)', () => {
  const again = transfer(keyOf('alice'), fromHex(BOB), 1000n, 1, ZERO32, utf8('lunch'));
  assert.is(toHex(transferId(again)), LUNCH_ID);
  assert.is(toHex(concat(transferId(again))), LUNCH_ID);
});

test.run();
