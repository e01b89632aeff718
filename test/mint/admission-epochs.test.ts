import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { JoinCodec, sign, epochHash } from '../../protocol/objects.ts';
import { validateEpoch } from '../../protocol/ring.ts';
import { ed25519, fastScheme } from '../../protocol/signature.ts';
import { decodeMessage, encodeMessage } from '../../protocol/messages.ts';
import { MintMachine } from '../../mint/core/mint-machine.ts';
import { NET, doubleSpend, joinRequest, key, makeNet, notice, sendNotice, throwsCode, type Net } from './helpers.ts';

function join(net: Net, name: string) {
  const j = joinRequest(key(net.scheme, name));
  return net.run(net.mint.receive({ node: toHex(j.node) }, { type: 'join', join: j }));
}
function hasMember(net: Net, name: string): boolean {
  const id = toHex(key(net.scheme, name).publicKey);
  return net.mint.currentEpoch().members.some((m) => toHex(m) === id);
}

test('open admission: automatic, effective next epoch, the joiner gets the epoch directly', () => {
  const net = makeNet({ scheme: fastScheme });
  const out = join(net, 'newbie');
  assert.ok(out.events.some((e) => e.type === 'admitted'));
  assert.is(out.persist.length, 1);
  const direct = out.send.find((s) => s.msg.type === 'epoch');
  assert.equal(direct!.to, { node: toHex(key(fastScheme, 'newbie').publicKey) });
  assert.not.ok(hasMember(net, 'newbie'), 'not before the next epoch');
  // Not before epochIntervalMs has passed since the last epoch.
  net.clock.t += net.mint.options.epochIntervalMs - 1;
  assert.equal(net.mint.tick(), { send: [], persist: [], events: [] });
  net.clock.t += 1;
  const tick = net.run(net.mint.tick());
  assert.ok(hasMember(net, 'newbie'));
  assert.ok(tick.send.some((s) => s.msg.type === 'epoch' && 'broadcast' in s.to));
  assert.ok(tick.send.some((s) => s.msg.type === 'epoch' && 'node' in s.to), 'new member gets it directly too');
  // No membership change: no new epoch, however long we wait.
  net.clock.t += 10 * net.mint.options.epochIntervalMs;
  assert.equal(net.mint.tick().send, []);
  assert.is(net.mint.currentEpoch().epoch, 1);
});

test('a node admitted after an alert is sent every earlier alert with its first epoch (I6)', () => {
  const net = makeNet({ scheme: fastScheme });
  const alert = sendNotice(net, notice(net.nodes[0]!, doubleSpend(key(fastScheme, 'cheat'), 1))).send.find((s) => s.msg.type === 'alert');
  assert.ok(alert, 'the notice made an alert');
  join(net, 'late');
  net.clock.t += net.mint.options.epochIntervalMs;
  const tick = net.run(net.mint.tick());
  const late = toHex(key(fastScheme, 'late').publicKey);
  const direct = tick.send.filter((s) => 'node' in s.to && s.to.node === late && s.msg.type === 'alert');
  assert.is(direct.length, 1);
  assert.is(net.mint.alerts().length, 1);
});

test('open admission is rate-limited per epoch; refused joiners can come in later', () => {
  const net = makeNet({ scheme: fastScheme, options: { maxJoinsPerEpoch: 2 } });
  assert.ok(join(net, 'a').events.length === 1);
  assert.ok(join(net, 'b').events.length === 1);
  const refused = join(net, 'c');
  assert.equal(refused, { send: [], persist: [], events: [] });
  assert.equal(join(net, 'a').events, [], 'a second join of a pending node is no new admission');
  net.clock.t += net.mint.options.epochIntervalMs;
  net.run(net.mint.tick());
  assert.ok(hasMember(net, 'a') && hasMember(net, 'b') && !hasMember(net, 'c'));
  assert.ok(join(net, 'c').events.length === 1, 'a new epoch frees the quota');
});

test('join requests must be signed by the joining node', () => {
  const net = makeNet({ scheme: fastScheme });
  const node = key(fastScheme, 'n');
  const other = key(fastScheme, 'other');
  const forged = sign(JoinCodec, NET, other, { node: node.publicKey, addrs: [], issuedAt: 0 });
  assert.equal(net.mint.receive({ node: toHex(node.publicKey) }, { type: 'join', join: forged }).events, []);
  assert.is(net.mint.pendingAdmissions().length, 0);
});

test('allowlist admission: joins alone do nothing, the operator admits', () => {
  const net = makeNet({ scheme: fastScheme, admission: 'allowlist' });
  assert.equal(join(net, 'x'), { send: [], persist: [], events: [] });
  assert.is(net.mint.pendingAdmissions().length, 0);
  const out = net.run(net.mint.admit(key(fastScheme, 'x').publicKey));
  assert.ok(out.events.some((e) => e.type === 'admitted'));
  assert.ok(join(net, 'x').send.some((s) => s.msg.type === 'epoch'), 'an admitted node that joins gets the ring');
  assert.equal(net.mint.admit(key(fastScheme, 'x').publicKey).events, [], 'admit is idempotent');
  net.clock.t += net.mint.options.epochIntervalMs;
  net.run(net.mint.tick());
  assert.ok(hasMember(net, 'x'));
  throwsCode(() => net.mint.admit(new Uint8Array(3)), 'BAD_REQUEST');
});

test('epoch chain: every record validates against its predecessor (ed25519), k/q kept from genesis', () => {
  const net = makeNet({ scheme: ed25519, k: 5, q: 3, members: 5 });
  for (let i = 0; i < 4; i++) {
    join(net, `e${i}`);
    net.clock.t += net.mint.options.epochIntervalMs;
    net.run(net.mint.tick());
  }
  const chain = net.mint.epochs();
  assert.is(chain.length, 5);
  validateEpoch(chain[0]!, net.genesis.mintKey, ed25519);
  for (let n = 1; n < chain.length; n++) {
    const rec = chain[n]!;
    validateEpoch(rec, net.genesis.mintKey, ed25519, chain[n - 1]!);
    assert.is(rec.k, 5);
    assert.is(rec.q, 3);
    assert.is(rec.members.length, 5 + n);
    assert.equal(rec.prev, epochHash(chain[n - 1]!));
    assert.is(rec.issuedAt, 1_000_000 + n * net.mint.options.epochIntervalMs);
    assert.equal(net.mint.epoch(n), rec);
    // And it survives the wire as an 'epoch' message.
    const back = decodeMessage(NET, encodeMessage({ type: 'epoch', record: rec }));
    assert.ok(back.type === 'epoch');
    validateEpoch(back.record, net.genesis.mintKey, ed25519, chain[n - 1]!);
  }
  assert.is(net.mint.epoch(99), undefined);
  assert.is(net.mint.epoch(-1), undefined);
});

test('a mint with the wrong key refuses to start', () => {
  const net = makeNet({ scheme: fastScheme });
  throwsCode(() => new MintMachine({ genesis: net.genesis, signer: net.nodes[0]!, scheme: fastScheme, clock: net.clock }), 'NOT_MINT');
});

test.run();
