// `stored` is f + 1 storage nodes' word, each asked by the gateway itself (protocol.md §5
// step 5): the bundle outlives the loss of any one storage node, and a storage node that
// answers `stored` and drops the bundle cannot end the transfer alone. Both worlds are
// built so nothing else would bring the bundle back: the gateway is not a storage node,
// and no custodian of the sender is one (its keeper is told `done`, and stops watching).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import type { Address } from '../../protocol/ports.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Signer } from '../../protocol/signature.ts';
import { toHex } from '../../protocol/bytes.ts';
import { Ring } from '../../protocol/ring.ts';

type World = { h: Harness; alice: Signer; bob: Signer; t: Transfer; id: Uint8Array; storage: string[]; gateway: string };

/** A transfer whose storage nodes are none of alice's custodians, and a gateway that is neither. */
function world(seed: number): World {
  const h = new Harness({ nodes: 16, seed, wire: true });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(5);
  const from = h.custodiansOf(alice.publicKey);
  const to = h.custodiansOf(bob.publicKey);
  for (let amount = 1n; amount < 10_000n; amount++) {
    const t = h.transfer(alice, bob.publicKey, amount, 1);
    const id = transferId(t);
    const storage = new Ring(h.genesis.epoch0).storage(id).map(toHex);
    if (storage.some((n) => from.includes(n))) continue;
    const gateway = h.outside([...from, ...to, ...storage]);
    if (gateway !== undefined) return { h, alice, bob, t, id, storage, gateway };
  }
  throw new Error('no such transfer');
}

/** Live storage nodes of the bundle (current epoch) that hold it, leaving out `not`. */
function heldAt(w: World, not: readonly string[] = []): number {
  return w.storage.filter((n) => !w.h.down.has(n) && !not.includes(n) && w.h.nodes.get(n)!.bundle(w.id) !== undefined).length;
}

function credited(w: World): void {
  for (const c of w.h.custodiansOf(w.bob.publicKey)) assert.is(w.h.nodes.get(c)!.account(w.bob.publicKey)?.balance, w.t.amount, 'credited at every custodian of bob');
}

test('the first storage node to answer `stored` dies for good right after, the others cut off until then: the bundle still ends at >= q storage nodes', () => {
  const w = world(1);
  const { h, t, id, storage, gateway } = w;
  const [first, ...rest] = storage as [string, ...string[]];
  // Up to the credits as usual; the gateway's stores wait.
  h.holdIf = (from: Address, _to: string, msg: Message) => 'node' in from && from.node === gateway && msg.type === 'store';
  h.submit(gateway, t);
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(id)?.status, 'credited');
  // A partition cuts the other storage nodes off; the first gets its store and answers.
  const cut = (from: Address, to: string): boolean => rest.includes(to) || ('node' in from && rest.includes(from.node));
  h.release((_f, to) => to === first);
  h.release((f, to) => cut(f, to), true);
  h.holdIf = (from: Address, to: string) => cut(from, to);
  h.run();
  assert.is(heldAt(w), 1, 'the first storage node alone holds it');
  // It leaves for good with its copy; the partition lasts a few retries more, then heals.
  h.down.add(first);
  for (let i = 0; i < 6; i++) {
    h.tick(600);
    h.run();
    h.release(() => true, true);
  }
  h.holdIf = undefined;
  h.settle(80, 600);
  assert.is(h.nodes.get(gateway)!.transfer(id)?.status, 'stored');
  assert.ok(heldAt(w) >= h.genesis.epoch0.q, `held at ${heldAt(w)} live storage nodes`);
  credited(w);
});

test('a storage node that answers `stored` and drops the bundle cannot end the transfer alone: it ends stored at honest storage nodes', () => {
  const w = world(2);
  const { h, t, id, storage, gateway } = w;
  const liar = storage[0]!;
  // The liar keeps no bundle it is sent (nor one it is handed back), and answers each of the gateway's stores at once.
  h.holdIf = (_from: Address, to: string, msg: Message) => to === liar && (msg.type === 'store' || msg.type === 'lookup-reply');
  const lie = (): void => {
    for (const m of h.held.splice(0)) {
      if (!('node' in m.from) || m.from.node !== gateway || m.msg.type !== 'store') continue;
      h.take(gateway, h.nodes.get(gateway)!.receive({ node: liar }, { type: 'stored', transferId: id }));
    }
  };
  h.submit(gateway, t);
  for (let i = 0; i < 80; i++) {
    h.run();
    lie();
    h.run();
    h.tick(600);
  }
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(id)?.status, 'stored');
  assert.is(h.nodes.get(liar)!.bundle(id), undefined, 'the liar dropped it');
  assert.ok(heldAt(w, [liar]) >= h.genesis.epoch0.q, `held at ${heldAt(w, [liar])} honest storage nodes`);
  credited(w);
});

test.run();
