// The simulator runs machines with `durable: false` (no restart will read a store) and
// `maxFinishedViews: 0`: the same messages and decisions as daemon settings, no records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from '../core/harness.ts';
import { toHex } from '../../protocol/bytes.ts';
import { encodeMessage } from '../../protocol/messages.ts';
import { transferId } from '../../protocol/objects.ts';
import type { NodeEvent, NodeOptions } from '../../node/core/api.ts';
import type { Output } from '../../protocol/ports.ts';

/** Issue, two transfers, a double spend and anti-entropy rounds; returns what was sent, emitted and stored. */
function run(options: Partial<NodeOptions>): { sent: string[]; events: string[]; records: number; stored: number } {
  const h = new Harness({ nodes: 8, options });
  const sent: string[] = [];
  for (const [hex, m] of h.nodes) {
    const note = (out: Output<NodeEvent>): Output<NodeEvent> => {
      for (const s of out.send) sent.push(`${hex.slice(0, 8)}>${JSON.stringify(s.to)}:${toHex(encodeMessage(s.msg))}`);
      return out;
    };
    const receive = m.receive.bind(m);
    const submit = m.submit.bind(m);
    const tick = m.tick.bind(m);
    m.receive = (from, msg) => note(receive(from, msg));
    m.submit = (t) => note(submit(t));
    m.tick = () => note(tick());
  }
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  const carol = h.scheme.signer(secret('carol'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const t1 = h.transfer(alice, bob.publicKey, 30n, 1);
  const t2 = h.transfer(alice, carol.publicKey, 30n, 2, transferId(t1));
  const bad = h.transfer(alice, carol.publicKey, 31n, 2, transferId(t1));
  h.submit(1, t1);
  h.run();
  h.submit(2, t2);
  h.submit(3, bad);
  h.settle(12);
  const events = h.events.map((e) => `${e.node.slice(0, 8)}:${e.event.type}:${JSON.stringify(e.event, (_k, v) => (typeof v === 'bigint' ? `${v}` : v instanceof Uint8Array ? toHex(v) : v))}`);
  let records = 0;
  for (const s of h.stores.values()) records += s.size;
  let stored = 0;
  for (const m of h.nodes.values()) if (m.bundle(transferId(t1))) stored++;
  return { sent, events, records, stored };
}

test('durable: false and maxFinishedViews: 0 send and emit exactly what daemon settings do, and write nothing', () => {
  const daemon = run({});
  const sim = run({ durable: false, maxFinishedViews: 0 });
  assert.ok(daemon.records > 0);
  assert.is(sim.records, 0);
  assert.ok(daemon.sent.length > 100, `${daemon.sent.length} messages`); // enough traffic for the comparison to mean something
  assert.equal(sim.sent, daemon.sent);
  assert.equal(sim.events, daemon.events);
  assert.is(sim.stored, daemon.stored);
  assert.ok(daemon.stored >= 3);
});

test.run();
