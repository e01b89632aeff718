// The simulator counts bytes with messageSize (arithmetic) instead of encoding each
// message: it must equal the real encoding's length for every message type, and an
// object's wire bytes must not depend on whether its payload was cached (signed or
// verified) before it was written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { toHex } from '../../protocol/bytes.ts';
import { encodeMessage, messageSize, type Message } from '../../protocol/messages.ts';
import { TransferCodec, VoteCodec, ReceiptCodec, cachePayload, payload, verify, type Transfer, type Vote } from '../../protocol/objects.ts';
import { ed25519, fastScheme } from '../../protocol/signature.ts';
import { messageArbs } from '../core/vectors/arbitraries.ts';
import { keyOf, NET, receipt, secretOf, transfer, vote } from '../core/vectors/fixtures.ts';

for (const [type, arb] of Object.entries(messageArbs)) {
  test(`messageSize equals the encoded length of every "${type}" message`, () => {
    fc.assert(
      fc.property(arb as fc.Arbitrary<Message>, (m) => {
        assert.is(messageSize(m), encodeMessage(m).length);
      }),
      { seed: 20261123, numRuns: 40 },
    );
  });
}

test('wire bytes are the same with and without a cached payload', () => {
  const a = keyOf('a');
  const b = keyOf('b');
  const t = transfer(a, b.publicKey, 5n, 3, undefined, Uint8Array.of(1, 2, 3));
  const v = vote(b, t, 2);
  const x = receipt(b, t, 2);
  // Fresh copies carry no cached payload: their encoding goes field by field.
  const bare = (o: object) => ({ ...o }) as never;
  const msgs: [Message, Message][] = [
    [{ type: 'vote-request', transfer: t }, { type: 'vote-request', transfer: bare(t) }],
    [{ type: 'vote', vote: v }, { type: 'vote', vote: bare(v) }],
    [{ type: 'receipt', receipt: x }, { type: 'receipt', receipt: bare(x) }],
    [
      { type: 'store', bundle: { certificate: { transfer: t, votes: [v] }, receipts: [x] }, ack: true },
      { type: 'store', bundle: { certificate: { transfer: bare(t), votes: [bare(v)] }, receipts: [bare(x)] }, ack: true },
    ],
  ];
  for (const [cached, plain] of msgs) {
    assert.is(toHex(encodeMessage(cached)), toHex(encodeMessage(plain)));
    assert.is(messageSize(cached), encodeMessage(plain).length);
  }
  // Signed objects verify; the cached payload is the one a fresh encoding gives.
  assert.ok(verify(TransferCodec, NET, ed25519, a.publicKey, t));
  assert.ok(verify(VoteCodec, NET, ed25519, b.publicKey, v));
  assert.ok(verify(ReceiptCodec, NET, ed25519, b.publicKey, x));
  assert.is(toHex(payload(TransferCodec, NET, t)), toHex(payload(TransferCodec, NET, bare(t) as Transfer)));
});

test('a payload recorded with cachePayload is the one encodes and ids use', () => {
  const a = keyOf('a');
  const b = keyOf('b');
  const t = transfer(a, b.publicKey, 7n);
  const v = vote(b, t, 1);
  const p = payload(VoteCodec, NET, v);
  const bare = { ...v } as Vote;
  const bodyStart = 2 + 'ringmint/1/vote'.length + 2 + NET.length;
  cachePayload(bare, NET, p, bodyStart);
  assert.is(payload(VoteCodec, NET, bare), p);
  assert.is(toHex(encodeMessage({ type: 'vote', vote: bare })), toHex(encodeMessage({ type: 'vote', vote: { ...v } as Vote })));
});

test('fastScheme: a cached verification never vouches for another key, message or signature', () => {
  const a = fastScheme.signer(secretOf('a'));
  const b = fastScheme.signer(secretOf('b'));
  const msg = Uint8Array.of(9, 8, 7, 6);
  const sig = a.sign(msg);
  assert.ok(fastScheme.verify(a.publicKey, msg, sig));
  assert.ok(fastScheme.verify(a.publicKey, msg, sig)); // cached
  assert.not.ok(fastScheme.verify(b.publicKey, msg, sig));
  assert.not.ok(fastScheme.verify(a.publicKey, Uint8Array.of(9, 8, 7, 7), sig));
  assert.not.ok(fastScheme.verify(a.publicKey, msg.slice(0, 3), sig));
  for (const i of [0, 31, 32, 63]) {
    const flipped = sig.slice();
    flipped[i]! ^= 0x80;
    assert.not.ok(fastScheme.verify(a.publicKey, msg, flipped), `byte ${i}`);
  }
  assert.is(sig.length, 64);
});

test.run();
