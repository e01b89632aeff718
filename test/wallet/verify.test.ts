// Offline: sign a transfer, build its receipt bundle with real node signatures,
// and check that the wallet accepts it, and refuses every forgery.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { verifyBundle } from '../../wallet/verify.ts';
import { bundleToHex, epochToHex } from '../../protocol/json.ts';
import { epochHash, ReceiptCodec, sign, transferIdHex } from '../../protocol/objects.ts';
import { ZERO32 } from '../../protocol/bytes.ts';
import { makeBundle, makeNet, makeTransfer, nextEpoch, NETWORK, seeded, signer } from './fixture.ts';

const alice = seeded('alice', 0);
const bob = seeded('bob', 0);
const noEpochs = async (n: number): Promise<string> => {
  throw new Error(`no epoch ${n} here`);
};

test('a bundle of epoch 0 verifies from the genesis alone', async () => {
  const net = makeNet();
  const t = makeTransfer(alice, bob.publicKey, 12_500_000n);
  const r = await verifyBundle(bundleToHex(makeBundle(net, t)), net.genesis, noEpochs, transferIdHex(t));
  assert.is(r.valid, true, JSON.stringify(r));
  if (!r.valid) return;
  assert.is(r.amount, '12500000');
  assert.is(r.votes, 3);
  assert.is(r.receipts, 3);
  assert.equal(r.epochs, [0]);
});

test('too few votes or receipts, or signers that are not custodians, are refused', async () => {
  const net = makeNet();
  const t = makeTransfer(alice, bob.publicKey, 5n);
  const few = await verifyBundle(bundleToHex(makeBundle(net, t, 0, 2)), net.genesis, noEpochs);
  assert.is(few.valid, false);
  if (!few.valid) assert.is(few.error, 'BAD_CERTIFICATE');

  const b = makeBundle(net, t);
  // receipts signed by nodes that are members but not custodians of the recipient
  const custodians = new Set(b.receipts.map((x) => Buffer.from(x.custodian).toString('hex')));
  const others = net.epochs[0]!.members.filter((m) => !custodians.has(Buffer.from(m).toString('hex'))).slice(0, 3);
  const wrong = {
    ...b,
    receipts: others.map((n) => sign(ReceiptCodec, NETWORK, signer(net, n), { ...b.receipts[0]!, custodian: n })),
  };
  const r = await verifyBundle(bundleToHex(wrong), net.genesis, noEpochs);
  assert.is(r.valid, false);
  if (!r.valid) assert.is(r.error, 'BAD_BUNDLE');
});

test('a receipt for another amount or a transfer of another id is refused', async () => {
  const net = makeNet();
  const t = makeTransfer(alice, bob.publicKey, 5n);
  const b = makeBundle(net, t);
  const inflated = { ...b, receipts: b.receipts.map((x) => sign(ReceiptCodec, NETWORK, signer(net, x.custodian), { ...x, amount: 500n })) };
  assert.is((await verifyBundle(bundleToHex(inflated), net.genesis, noEpochs)).valid, false);
  const other = await verifyBundle(bundleToHex(b), net.genesis, noEpochs, 'ff'.repeat(32));
  assert.is(other.valid, false);
  if (!other.valid) assert.match(other.message, /not ffff/);
  const garbage = await verifyBundle('zz', net.genesis, noEpochs);
  assert.is(garbage.valid, false);
});

test('later epochs are fetched from an untrusted source and checked against the mint key and chain', async () => {
  const net = makeNet();
  nextEpoch(net);
  const t = makeTransfer(alice, bob.publicKey, 9n);
  const hex = bundleToHex(makeBundle(net, t, 1));
  const asked: number[] = [];
  const honest = async (n: number) => (asked.push(n), epochToHex(net.epochs[n]!));
  const ok = await verifyBundle(hex, net.genesis, honest);
  assert.is(ok.valid, true, JSON.stringify(ok));
  assert.equal(asked, [1]);

  // the same epoch signed by someone else: refused
  const forged = makeNet();
  const liar = seeded('liar', 0);
  nextEpoch(forged, liar);
  const r1 = await verifyBundle(hex, net.genesis, async () => epochToHex(forged.epochs[1]!));
  assert.is(r1.valid, false);
  if (!r1.valid) assert.is(r1.error, 'BAD_SIGNATURE');

  // signed by the mint but not chained to epoch 0
  const unchained = makeNet();
  nextEpoch(unchained, unchained.mint, ZERO32);
  const r2 = await verifyBundle(hex, net.genesis, async () => epochToHex(unchained.epochs[1]!));
  assert.is(r2.valid, false);
  if (!r2.valid) assert.is(r2.error, 'BAD_EPOCH');
  assert.ok(epochHash(net.epochs[0]!));

  // no source at all
  const r3 = await verifyBundle(hex, net.genesis, noEpochs);
  assert.is(r3.valid, false);
  if (!r3.valid) assert.is(r3.error, 'UNKNOWN_EPOCH');
});

test.run();
