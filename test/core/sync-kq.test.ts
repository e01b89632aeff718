// Synced at k = q (protocol.md §7, Synced): a custodian that could not sync when it
// became one (an old custodian down) and stays a custodian syncs in a later epoch on the
// full answers of all the other old custodians, itself being one of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret, ringCustodians } from './harness.ts';
import { transferId } from '../../protocol/objects.ts';
import { sortMembers } from '../../mint/core/genesis-create.ts';

test('at k = q an unsynced custodian that is an old custodian itself syncs on the other old custodians\' answers', () => {
  const members1 = [0, 1, 2, 3, 4, 5, 6, 7];
  const h = new Harness({ nodes: 6, k: 3, q: 3, spare: 2 });
  const spares = [h.nodeHex(6), h.nodeHex(7)];
  // An account whose custodians in the new ring include a newcomer and drop one old custodian.
  const probe = (i: number) => h.scheme.signer(secret(`kq-sync-${i}`));
  const e1Preview = { ...h.genesis.epoch0, members: sortMembers(members1.map((i) => h.signers[i]!.publicKey)) };
  let alice = probe(0);
  for (let i = 0; i < 500; i++) {
    alice = probe(i);
    const a0 = h.custodiansOf(alice.publicKey);
    const a1 = ringCustodians(e1Preview, alice.publicKey);
    if (a1.some((x) => spares.includes(x)) && a0.some((x) => !a1.includes(x))) break;
  }
  const bob = h.scheme.signer(secret('kq-sync-bob'));
  h.issue(alice.publicKey, 50n);
  h.settle(5);
  const a0 = h.custodiansOf(alice.publicKey);
  const gone = a0.find((x) => !ringCustodians(e1Preview, alice.publicKey).includes(x))!;
  // Epoch 1: the old custodian leaving the group is down, so the newcomer hears 2 of q = 3.
  h.down.add(gone);
  const e1 = h.newEpoch(members1);
  h.settle(10);
  const a1 = ringCustodians(e1, alice.publicKey);
  const newcomer = a1.find((x) => spares.includes(x))!;
  assert.ok(newcomer !== undefined, 'a newcomer is a custodian');
  assert.not.ok(h.nodes.get(newcomer)!.account(alice.publicKey)?.synced ?? false, 'not synced in epoch 1: an old custodian is down');
  // Epoch 2, same ring: the newcomer is now one of the old custodians; the other two answer.
  h.newEpoch(members1);
  h.settle(5);
  const gw = h.outside([...a1, gone]);
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  h.submit(gw, t);
  h.settle(20);
  assert.ok(h.nodes.get(newcomer)!.account(alice.publicKey)?.synced, 'synced in epoch 2');
  assert.ok(['final', 'credited', 'stored'].includes(h.status(h.indexOf(gw), t) ?? ''), `the transfer goes through at k = q (${h.status(h.indexOf(gw), t)})`);
  void transferId;
});

test.run();
