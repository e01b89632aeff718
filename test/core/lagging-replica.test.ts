// A refusal from a replica that lags is not the last word (gateway.ts onReject): once
// f + 1 custodians voted for a transfer, an honest one holds its lock, which is never
// released (protocol.md §5a), so rejecting it would leave that debit stranded at the
// voters for good. Here one of alice's custodians lost its disk and came back empty at
// epoch 0 (synced by rule, holding nothing): with k = q it alone refuses
// INSUFFICIENT_FUNDS while the other three lock and vote. The gateway keeps asking;
// anti-entropy brings the lagging replica alice's credit, it votes, and the transfer
// finishes. Both orders of arrival are covered: the votes first, and the refusal first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { transferId } from '../../protocol/objects.ts';
import { MemoryStore, type Address } from '../../protocol/ports.ts';
import type { Message } from '../../protocol/messages.ts';

function world() {
  const h = new Harness({ nodes: 6, k: 4, q: 4, seed: 3, wire: true });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(5);
  const custodians = h.custodiansOf(alice.publicKey);
  for (const c of custodians) assert.is(h.nodes.get(c)!.account(alice.publicKey)?.balance, 100n);
  // Disk loss: the node comes back from an empty store.
  const amnesiac = custodians[1]!;
  h.stores.set(amnesiac, new MemoryStore());
  h.restart(amnesiac);
  assert.is(h.nodes.get(amnesiac)!.account(alice.publicKey)?.balance ?? 0n, 0n);
  const gateway = h.outside(custodians);
  return { h, alice, bob, custodians, amnesiac, gateway };
}

function finishes(w: ReturnType<typeof world>, t: ReturnType<Harness['transfer']>): void {
  const { h, alice, bob, custodians, gateway } = w;
  h.settle(60, 600);
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))?.status, 'stored');
  for (const c of custodians) assert.is(h.nodes.get(c)!.account(alice.publicKey)?.balance, 70n, `alice at ${c.slice(0, 8)}`);
  for (const c of h.custodiansOf(bob.publicKey)) assert.is(h.nodes.get(c)!.account(bob.publicKey)?.balance, 30n, `bob at ${c.slice(0, 8)}`);
}

test('k = q: three votes, then a lagging replica refuses: not rejected, the transfer finishes once it catches up', () => {
  const w = world();
  const { h, alice, bob, amnesiac, gateway } = w;
  h.holdIf = (from: Address, _to: string, msg: Message) => 'node' in from && from.node === amnesiac && msg.type === 'reject';
  const t = h.transfer(alice, bob.publicKey, 30n, 1);
  h.submit(gateway, t);
  h.run();
  assert.is(h.release(), 1, 'the refusal, held until the votes were in');
  h.holdIf = undefined;
  h.run();
  assert.is.not(h.nodes.get(gateway)!.transfer(transferId(t))?.status, 'rejected', 'three custodians hold the lock');
  finishes(w, t);
});

test('k = q: a lagging replica refuses first, then three votes: the rejection is taken back, the transfer finishes', () => {
  const w = world();
  const { h, alice, bob, gateway } = w;
  h.holdIf = (_from: Address, to: string, msg: Message) => to === gateway && msg.type === 'vote';
  const t = h.transfer(alice, bob.publicKey, 30n, 1);
  h.submit(gateway, t);
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))?.status, 'rejected', 'one lasting refusal is more than k - q = 0');
  assert.is(h.release(), 3, 'the votes, held until the refusal was in');
  h.holdIf = undefined;
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))?.status, 'pending', 'asked again');
  finishes(w, t);
});

test.run();
