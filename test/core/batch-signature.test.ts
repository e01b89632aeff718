// Batch signatures of votes and receipts: each object of a batch verifies alone and
// offline; any change to the object, its proof, the key, the network or the type
// fails; only canonical encodings decode; other types are never batched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compare, toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import {
  BatchSigner, batchDepth, finalSignature, isBatchablePayload, MAX_BATCH_DEPTH, MAX_BATCH_OBJECTS, SIGNATURE_BYTES,
} from '../../protocol/batch-signature.ts';
import { decodeMessage, encodeMessage, messageSize, type Message } from '../../protocol/messages.ts';
import {
  decodeWith, encodeWith, payload, readReceipt, readVote, ReceiptCodec, sign, TransferCodec, transferId, usePayloadSlabs, verify, VoteCodec,
  writeReceipt, writeVote, type Receipt, type Vote,
} from '../../protocol/objects.ts';
import { ed25519, nobleVerify, type SignatureScheme } from '../../protocol/signature.ts';
import { cachingScheme } from '../../runtime/verify-cache.ts';
import { keyOf, NET, transfer } from './vectors/fixtures.ts';

const custodian = keyOf('custodian');
const alice = keyOf('alice');
const bob = keyOf('bob');

function votesOf(signer: BatchSigner, n: number, network = NET): Vote[] {
  return Array.from({ length: n }, (_, i) => {
    const t = transfer(alice, bob.publicKey, BigInt(i + 1), i + 1, undefined, undefined, network);
    return sign(VoteCodec, network, signer, { transferId: transferId(t), from: t.from, seq: t.seq, epoch: 3, voter: signer.publicKey });
  });
}

const wire = (v: Vote): Vote => decodeWith(NET, encodeWith(v, writeVote), readVote);

test('every object of a batch verifies alone after the wire; a batch of one is a plain signature', () => {
  for (const n of [1, 2, 3, 5, 16, 17, 100]) {
    const signer = new BatchSigner(custodian, NET);
    const votes = votesOf(signer, n);
    assert.ok(votes.every((v) => v.sig.length === 0), 'placeholders until sealed');
    const decoded = votes.map(wire); // the first encode seals the batch
    assert.is(signer.batches, 1);
    const depth = n === 1 ? 0 : Math.ceil(Math.log2(n));
    for (const v of decoded) {
      assert.is(batchDepth(v.sig), depth, `n=${n}`);
      assert.ok(verify(VoteCodec, NET, ed25519, custodian.publicKey, v), `n=${n}`);
    }
    // the in-memory objects verify too (their placeholders resolve)
    assert.ok(votes.every((v) => verify(VoteCodec, NET, ed25519, custodian.publicKey, v)));
    if (n === 1) assert.is(finalSignature(votes[0]!.sig).length, SIGNATURE_BYTES);
  }
});

test('a batch signature is one Ed25519 signature over the root: the noble verifier agrees with the native one', () => {
  const signer = new BatchSigner(custodian, NET);
  const votes = votesOf(signer, 6).map(wire);
  const noble: SignatureScheme = { name: 'ed25519', signer: ed25519.signer, verify: nobleVerify };
  for (const v of votes) assert.ok(verify(VoteCodec, NET, noble, custodian.publicKey, v));
});

test('a changed object, sibling, index, signature, key, network or type fails', () => {
  const signer = new BatchSigner(custodian, NET);
  const [v, w] = votesOf(signer, 5).map(wire) as [Vote, Vote];
  const ok = (x: Vote) => verify(VoteCodec, NET, ed25519, custodian.publicKey, x);
  const withSig = (x: Vote, f: (s: Uint8Array) => void): Vote => {
    const s = Uint8Array.from(x.sig);
    f(s);
    return { ...x, sig: s };
  };
  assert.ok(ok(v));
  assert.not.ok(ok({ ...v, seq: v.seq + 1 }), 'object');
  assert.not.ok(ok(withSig(v, (s) => (s[SIGNATURE_BYTES + 2 + 5]! ^= 1))), 'sibling');
  assert.not.ok(ok(withSig(v, (s) => (s[SIGNATURE_BYTES + 1] = (s[SIGNATURE_BYTES + 1]! + 1) % 8))), 'index');
  assert.not.ok(ok(withSig(v, (s) => (s[10]! ^= 1))), 'signature');
  assert.not.ok(ok({ ...v, sig: w.sig }), "another object's proof");
  assert.not.ok(verify(VoteCodec, NET, ed25519, bob.publicKey, v), 'key');
  assert.not.ok(verify(VoteCodec, 'othernet', ed25519, custodian.publicKey, v), 'network');
  const asReceipt: Receipt = { transferId: v.transferId, to: v.from, amount: BigInt(v.seq), epoch: v.epoch, custodian: v.voter, sig: v.sig };
  assert.not.ok(verify(ReceiptCodec, NET, ed25519, custodian.publicKey, asReceipt), 'type');
  // A transfer never takes a batch signature.
  const t = transfer(alice, bob.publicKey, 1n);
  assert.not.ok(verify(TransferCodec, NET, ed25519, alice.publicKey, { ...t, sig: v.sig }));
});

test('only canonical batch signatures decode', () => {
  const signer = new BatchSigner(custodian, NET);
  const v = votesOf(signer, 4)[0]!;
  const bytes = encodeWith(v, writeVote);
  const sigAt = bytes.length - (SIGNATURE_BYTES + 2 + 64) - 1; // u8 depth, then 64 + 2 + 2 x 32
  assert.is(bytes[sigAt], 2);
  const bad = (f: (b: Uint8Array) => Uint8Array, code: string) => {
    try {
      decodeWith(NET, f(Uint8Array.from(bytes)), readVote);
      assert.unreachable('decoded');
    } catch (e) {
      assert.instance(e, Rejection);
      assert.is((e as Rejection).code, code);
    }
  };
  bad((b) => ((b[sigAt] = MAX_BATCH_DEPTH + 1), b), Reason.NON_CANONICAL);
  bad((b) => ((b[sigAt + 1 + SIGNATURE_BYTES + 1] = 4), b), Reason.NON_CANONICAL); // index 4 >= 2^2
  bad((b) => ((b[sigAt] = 3), b), Reason.TRUNCATED); // claims a longer proof than there is
  bad((b) => b.subarray(0, b.length - 1), Reason.TRUNCATED);
});

test('only votes and receipts wait for a batch; anything else is signed at once', () => {
  const signer = new BatchSigner(custodian, NET);
  const t = sign(TransferCodec, NET, signer, { from: custodian.publicKey, to: bob.publicKey, amount: 1n, seq: 1, prev: new Uint8Array(32), memo: new Uint8Array(0) });
  assert.is(t.sig.length, SIGNATURE_BYTES);
  assert.ok(verify(TransferCodec, NET, ed25519, custodian.publicKey, t));
  assert.not.ok(isBatchablePayload(payload(TransferCodec, NET, t)));
  const x = sign(ReceiptCodec, NET, signer, { transferId: transferId(t), to: bob.publicKey, amount: 1n, epoch: 0, custodian: custodian.publicKey });
  assert.is(x.sig.length, 0);
  assert.ok(isBatchablePayload(payload(ReceiptCodec, NET, x)));
  const x2 = decodeWith(NET, encodeWith(x, writeReceipt), readReceipt);
  assert.ok(verify(ReceiptCodec, NET, ed25519, custodian.publicKey, x2));
});

test('what is signed after a seal goes into the next batch; a full batch seals itself', () => {
  const signer = new BatchSigner(custodian, NET);
  const first = votesOf(signer, 3);
  wire(first[0]!);
  const second = votesOf(signer, 2);
  assert.is(signer.batches, 1);
  signer.seal();
  signer.seal(); // idempotent
  assert.is(signer.batches, 2);
  assert.is(toHex(finalSignature(first[1]!.sig).subarray(0, 64)), toHex(finalSignature(first[2]!.sig).subarray(0, 64)));
  assert.is.not(toHex(finalSignature(first[0]!.sig).subarray(0, 64)), toHex(finalSignature(second[0]!.sig).subarray(0, 64)));
  const many = new BatchSigner(custodian, NET);
  votesOf(many, MAX_BATCH_OBJECTS + 1);
  assert.is(many.batches, 1, 'sealed at the bound, the last one waits');
  assert.is(many.objects, MAX_BATCH_OBJECTS);
});

test('behind the verified-signature cache, a batch costs one Ed25519 check however many objects it signed', () => {
  let calls = 0;
  const inner: SignatureScheme = { name: 'ed25519', signer: ed25519.signer, verify: (k, m, s) => (calls++, ed25519.verify(k, m, s)) };
  const cache = cachingScheme(inner);
  const signer = new BatchSigner(custodian, NET);
  const votes = votesOf(signer, 20).map(wire);
  for (const v of votes) assert.ok(verify(VoteCodec, NET, cache, custodian.publicKey, v));
  assert.is(calls, 1);
});

test('a proof seen before is answered without the walk or the root check; a changed copy is still refused', () => {
  let calls = 0;
  const counting: SignatureScheme = { name: 'ed25519', signer: ed25519.signer, verify: (k, m, s) => (calls++, ed25519.verify(k, m, s)) };
  const signer = new BatchSigner(custodian, NET);
  const [v] = votesOf(signer, 4);
  const bytes = encodeWith(v!, writeVote);
  assert.ok(verify(VoteCodec, NET, counting, custodian.publicKey, decodeWith(NET, bytes, readVote)));
  assert.is(calls, 1);
  assert.ok(verify(VoteCodec, NET, counting, custodian.publicKey, decodeWith(NET, bytes, readVote)), 'a fresh decode');
  assert.is(calls, 1);
  const changed = Uint8Array.from(bytes);
  changed[changed.length - 1]! ^= 1; // the last sibling
  assert.not.ok(verify(VoteCodec, NET, counting, custodian.publicKey, decodeWith(NET, changed, readVote)));
  assert.not.ok(verify(VoteCodec, NET, counting, bob.publicKey, decodeWith(NET, bytes, readVote)), 'another key');
  assert.not.ok(verify(VoteCodec, 'othernet', counting, custodian.publicKey, decodeWith(NET, bytes, readVote)), 'another network');
});

test('messageSize counts batch signatures exactly, and messages carrying them round-trip', () => {
  const signer = new BatchSigner(custodian, NET);
  const other = new BatchSigner(keyOf('custodian2'), NET);
  const [v1, v2] = votesOf(signer, 3);
  const [w1] = votesOf(other, 2);
  const t = transfer(alice, bob.publicKey, 1n);
  const votes = [v2!, w1!].sort((a, b) => compare(a.voter, b.voter));
  const msgs: Message[] = [
    { type: 'vote', vote: v1! },
    { type: 'credit-request', certificate: { transfer: t, votes } },
  ];
  for (const m of msgs) {
    const bytes = encodeMessage(m);
    assert.is(messageSize(m), bytes.length);
    assert.equal(encodeMessage(decodeMessage(NET, bytes)), bytes);
  }
});

test('placeholders survive payload slabs (the simulator\'s allocation mode)', () => {
  usePayloadSlabs(true);
  try {
    const signer = new BatchSigner(custodian, NET);
    const votes = votesOf(signer, 3).map(wire);
    for (const v of votes) assert.ok(verify(VoteCodec, NET, ed25519, custodian.publicKey, v));
  } finally {
    usePayloadSlabs(false);
  }
});

test('gated: a batch holds only released objects; an unreleased one resolved early is signed alone', () => {
  const signer = new BatchSigner(custodian, NET);
  signer.gate();
  const first = votesOf(signer, 3);
  const m1 = signer.mark();
  const second = votesOf(signer, 3);
  // Nothing released yet: an object resolved now gets a plain signature of its own.
  const early = wire(second[0]!);
  assert.is(batchDepth(early.sig), 0);
  assert.is(signer.objects, 1);
  signer.release(m1);
  const a = first.map(wire);
  assert.ok(a.every((v) => batchDepth(v.sig) === 2), 'the three released ones, together');
  assert.is(signer.objects, 4, 'the unreleased two wait');
  signer.release(signer.mark());
  const b = second.slice(1).map(wire);
  assert.ok(b.every((v) => batchDepth(v.sig) === 1));
  for (const v of [early, ...a, ...b]) assert.ok(verify(VoteCodec, NET, ed25519, custodian.publicKey, v));
  signer.release(m1); // a lower mark never takes a release back
  const late = votesOf(signer, 2);
  assert.is(batchDepth(wire(late[0]!).sig), 0, 'signed after the last release: alone');
});

/** Sanity: the placeholders are what protocol code holds until the batch is sealed. */
test('a placeholder outside any batch stays empty (never a valid signature)', () => {
  const lone: Bytes = new Uint8Array(0);
  assert.is(finalSignature(lone).length, 0);
  const v = { ...votesOf(new BatchSigner(custodian, NET), 1)[0]!, sig: lone };
  assert.not.ok(verify(VoteCodec, NET, ed25519, custodian.publicKey, v));
});

test.run();
