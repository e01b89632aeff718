import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZERO32, toHex, utf8 } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import { TransferCodec, transferId, verify } from '../../protocol/objects.ts';
import { ed25519, fastScheme } from '../../protocol/signature.ts';
import { makeNet, throwsCode } from './helpers.ts';

const alice = sha256(utf8('alice'));

test('issuance: seq counts from 1 and prev chains the previous id (ed25519 signatures)', () => {
  const net = makeNet({ scheme: ed25519 });
  const a = net.mint.issue(alice, 100n);
  const b = net.mint.issue(alice, 50n, utf8('second'));
  assert.is(a.transfer.seq, 1);
  assert.equal(a.transfer.prev, ZERO32);
  assert.is(b.transfer.seq, 2);
  assert.equal(b.transfer.prev, transferId(a.transfer));
  assert.equal(a.transfer.from, net.genesis.mintKey);
  assert.ok(verify(TransferCodec, net.genesis.network, ed25519, net.genesis.mintKey, b.transfer));
  assert.is(net.mint.issuedTotal(), 150n);
});

test('issuance: persisted before it leaves, and sent as submit to a current member', () => {
  const net = makeNet({ scheme: fastScheme });
  const { transfer, output } = net.mint.issue(alice, 7n);
  assert.is(output.persist.length, 1, 'the seq is in this step’s persist batch');
  assert.is(output.send.length, 1);
  const s = output.send[0]!;
  assert.is(s.msg.type, 'submit');
  assert.ok('node' in s.to);
  const members = net.genesis.epoch0.members.map(toHex);
  assert.ok(members.includes((s.to as { node: string }).node));
  assert.is(s.msg.type === 'submit' && s.msg.transfer, transfer);
  assert.equal(output.events, [{ type: 'issued', transfer }]);
  // Round-robin: consecutive issuances go to different gateways.
  const next = net.mint.issue(alice, 1n).output.send[0]!.to as { node: string };
  assert.is.not(next.node, (s.to as { node: string }).node);
});

test('issuance: the supply cap is enforced with SUPPLY_CAP and nothing is signed', () => {
  const net = makeNet({ scheme: fastScheme, supplyCap: 100n });
  net.mint.issue(alice, 60n);
  throwsCode(() => net.mint.issue(alice, 41n), 'SUPPLY_CAP');
  assert.is(net.mint.issuedTotal(), 60n);
  const ok = net.mint.issue(alice, 40n);
  assert.is(ok.transfer.seq, 2, 'a refused issuance used no seq');
  throwsCode(() => net.mint.issue(alice, 1n), 'SUPPLY_CAP');
});

test('issuance: bad amounts, memo and self-issue are refused with reason codes', () => {
  const net = makeNet({ scheme: fastScheme });
  throwsCode(() => net.mint.issue(alice, 0n), 'BAD_AMOUNT');
  throwsCode(() => net.mint.issue(alice, -1n), 'BAD_AMOUNT');
  throwsCode(() => net.mint.issue(alice, 1n, new Uint8Array(65)), 'BAD_MEMO');
  throwsCode(() => net.mint.issue(net.genesis.mintKey, 1n), 'SELF_TRANSFER');
  throwsCode(() => net.mint.issue(new Uint8Array(5), 1n), 'BAD_REQUEST');
});

test('issuance: a restarted mint continues the chain (never reuses a seq)', () => {
  const net = makeNet({ scheme: fastScheme });
  const a = net.run(net.mint.issue(alice, 5n).output);
  void a;
  net.restart();
  const b = net.mint.issue(alice, 5n);
  assert.is(b.transfer.seq, 2);
  assert.equal(b.transfer.prev, transferId(net.mint.issued()[0]!));
  assert.is(net.mint.issuedTotal(), 10n);
});

test.run();
