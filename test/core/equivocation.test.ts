// Equivocation (protocol.md §4, 6): a custodian that votes for two transfers of one
// (from, seq, epoch) is caught by the gateway of the losing transfer, which holds
// one vote and finds the other in the winner's stored certificate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { toHex } from '../../protocol/bytes.ts';
import { transferId } from '../../protocol/objects.ts';

function setup() {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  const carol = h.scheme.signer(secret('carol'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const custodians = h.custodiansOf(alice.publicKey);
  return { h, alice, bob, carol, custodians };
}

test('a custodian voting for both sides of a double spend is reported, alerted and its votes voided', () => {
  const { h, alice, bob, carol, custodians } = setup();
  const [byzantine, absent] = custodians as [string, string];
  h.byzantine.add(byzantine);
  // With one honest custodian away, t1's certificate must carry the Byzantine vote.
  h.down.add(absent);
  const t1 = h.transfer(alice, bob.publicKey, 60n, 1);
  h.submit(1, t1);
  h.settle(5);
  assert.is(h.status(1, t1), 'stored');
  const cert = h.node(1).transfer(transferId(t1))!.certificate!;
  assert.ok(cert.votes.some((v) => toHex(v.voter) === byzantine), 'the certificate holds the Byzantine vote');
  h.down.delete(absent);
  const t2 = h.transfer(alice, carol.publicKey, 60n, 1);
  h.submit(2, t2);
  h.settle(10);
  assert.is(h.status(2, t2), 'conflict');
  const equivocations = h.alerts.filter((a) => a.notice.evidence.kind === 'equivocation');
  assert.is(equivocations.length, 1);
  const ev = equivocations[0]!.notice.evidence;
  assert.ok(ev.kind === 'equivocation' && toHex(ev.v1.voter) === byzantine);
  for (const n of h.nodes.values()) assert.ok(n.alerts().some((a) => a.notice.evidence.kind === 'equivocation'), 'every node accepted the alert');
});

test('an honest conflict (no custodian voted twice) yields no equivocation notice', () => {
  const { h, alice, bob, carol } = setup();
  const t1 = h.transfer(alice, bob.publicKey, 60n, 1);
  h.submit(1, t1);
  h.settle(5);
  const t2 = h.transfer(alice, carol.publicKey, 60n, 1);
  h.submit(2, t2);
  h.settle(10);
  assert.is(h.status(2, t2), 'conflict');
  assert.is(h.notices.filter((n) => n.evidence.kind === 'equivocation').length, 0);
  assert.is(h.alerts.filter((a) => a.notice.evidence.kind === 'double-spend').length, 1);
});

test.run();
