// The daemon's driver: a step's messages go out only once its writes (and every earlier
// step's) are durable, in step order; and a batching signer puts into one batch only
// what steps already durable signed, never a vote whose lock is still being written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchSigner, batchDepth } from '../../protocol/batch-signature.ts';
import { decodeMessage, encodeMessage, type Message } from '../../protocol/messages.ts';
import { sign, transferId, verify, VoteCodec, type Vote } from '../../protocol/objects.ts';
import type { Output } from '../../protocol/ports.ts';
import { ed25519 } from '../../protocol/signature.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { keyOf, NET, transfer } from '../core/vectors/fixtures.ts';
import { manualStore, testDriver } from './driver-stub.ts';

test('a batch holds only what durable steps signed; each step goes out in order once durable', async () => {
  const custodian = keyOf('custodian');
  const signer = new BatchSigner(custodian, NET);
  signer.gate();
  const { store, waiting } = manualStore();
  const sent: Message[] = [];
  const driver = testDriver(store, {
    // As the p2p host does: a message is encoded when it goes out (that seals its batch).
    transport: { send: (_to, msg) => void sent.push(decodeMessage(NET, encodeMessage(msg))) },
    batches: signer,
  });
  let seq = 0;
  const votes = (n: number): Output<never> => {
    const send = Array.from({ length: n }, () => {
      const t = transfer(keyOf('alice'), keyOf('bob').publicKey, 1n, ++seq);
      const vote = sign(VoteCodec, NET, signer, { transferId: transferId(t), from: t.from, seq: t.seq, epoch: 0, voter: custodian.publicKey });
      return { to: { node: 'aa' }, msg: { type: 'vote', vote } as Message };
    });
    return { send, persist: [{ key: `lock/${seq}`, value: new Uint8Array([1]) }], events: [] };
  };
  const a = driver.step('receive', () => votes(3));
  const b = driver.step('receive', () => votes(2));
  assert.is(waiting.length, 2);
  assert.is(sent.length, 0, 'nothing goes out before its write is durable');
  // b's write finishing first sends nothing: a comes first.
  waiting[1]!.finish();
  await new Promise((r) => setImmediate(r));
  assert.is(sent.length, 0);
  waiting[0]!.finish();
  await a;
  await b;
  assert.is(sent.length, 5);
  const got = sent.map((m) => (m as { vote: Vote }).vote);
  for (const v of got) assert.ok(verify(VoteCodec, NET, ed25519, custodian.publicKey, v));
  // Both steps were durable when the first vote was encoded: one batch of five.
  assert.ok(got.every((v) => batchDepth(v.sig) === 3));
  assert.is(signer.batches, 1);

  // A step still being written: the earlier step's batch leaves its votes out.
  const c = driver.step('receive', () => votes(2));
  const d = driver.step('receive', () => votes(3));
  waiting[2]!.finish();
  await c;
  assert.is(sent.length, 7);
  assert.is(signer.objects, 7, "d's votes are not in c's batch");
  assert.ok(sent.slice(5).every((m) => batchDepth((m as { vote: Vote }).vote.sig) === 1));
  waiting[3]!.finish();
  await d;
  assert.is(sent.length, 10);
  assert.is(signer.objects, 10);
  assert.ok(sent.slice(7).every((m) => batchDepth((m as { vote: Vote }).vote.sig) === 2));
  await driver.stop();
});

test('steps are counted and timed by kind (the message type received, submit, tick)', async () => {
  const metrics = createMetrics('node');
  const { store } = manualStore();
  const driver = testDriver(store, { metrics });
  const busy = (ms: number): Output<never> => {
    const until = performance.now() + ms;
    while (performance.now() < until);
    return { send: [], persist: [], events: [] };
  };
  await driver.step('digest', () => busy(3));
  await driver.step('digest', () => busy(3));
  await driver.step('vote', () => busy(0));
  const text = await metrics.registry.metrics();
  const value = (name: string, kind: string): number => Number(new RegExp(`^${name}\\{kind="${kind}",role="node"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  assert.is(value('ringmint_machine_steps_total', 'digest'), 2);
  assert.is(value('ringmint_machine_steps_total', 'vote'), 1);
  // each digest step spun 3 ms: at least that much was timed under its kind; the vote's time is its own
  assert.ok(value('ringmint_machine_step_seconds_total', 'digest') >= 0.006);
  assert.ok(value('ringmint_machine_step_seconds_total', 'vote') >= 0);
  await driver.stop();
});

test.run();
