// Failure detection and eviction (protocol.md §7, Failure detection): a member silent past
// evictAfterMs and reported unreachable by others is evicted at the next epoch; a live
// member is never evicted however many report it; evictions per epoch are capped and
// never leave fewer than k members.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { fastScheme, type Signer } from '../../protocol/signature.ts';
import { sign } from '../../protocol/objects.ts';
import { ReachabilityCodec } from '../../protocol/reachability.ts';
import { decodeMessage, encodeMessage } from '../../protocol/messages.ts';
import { joinRequest, key, makeNet, NET, type Net } from './helpers.ts';

const EVICT = 10_000;

function report(net: Net, from: Signer, unreachable: Signer[] = [], sender = from) {
  const r = sign(ReachabilityCodec, NET, from, { reporter: from.publicKey, epoch: net.mint.currentEpoch().epoch, at: net.clock.t, unreachable: unreachable.map((s) => s.publicKey) });
  const msg = decodeMessage(NET, encodeMessage({ type: 'reachability', report: r }));
  return net.run(net.mint.receive({ node: toHex(sender.publicKey) }, msg));
}

const members = (net: Net) => net.mint.currentEpoch().members.map(toHex);

/** Everyone but `silent` reports every second for `ms`, naming the silent ones unreachable (when `blame`). */
function live(net: Net, silent: Signer[], ms: number, blame = true) {
  const out = [];
  for (let t = 0; t < ms; t += 1_000) {
    net.clock.t += 1_000;
    for (const n of net.nodes) if (!silent.includes(n) && members(net).includes(toHex(n.publicKey))) report(net, n, blame ? silent : []);
    out.push(net.run(net.mint.tick()));
  }
  return out.flatMap((o) => o.events);
}

function setup(n = 7) {
  const net = makeNet({ scheme: fastScheme, members: n, k: 4, q: 3, options: { evictAfterMs: EVICT, epochIntervalMs: 1_000 } });
  net.run(net.mint.tick()); // the first tick starts every member's clock
  net.clock.t += 1_000;
  for (const n of net.nodes) report(net, n); // every member was heard once (see the startup grace test)
  return net;
}

test('a silent member reported unreachable is evicted at the next epoch', () => {
  const net = setup();
  const dead = net.nodes[2]!;
  const events = live(net, [dead], EVICT + 3_000);
  assert.not.ok(members(net).includes(toHex(dead.publicKey)));
  const ev = events.find((e) => e.type === 'evicted');
  assert.ok(ev && ev.type === 'evicted' && /reachability/.test(ev.why));
  assert.is(members(net).length, 6);
});

test('not before evictAfterMs, and not without a report naming it', () => {
  const net = setup();
  const dead = net.nodes[2]!;
  live(net, [dead], EVICT - 2_000);
  assert.ok(members(net).includes(toHex(dead.publicKey)), 'not yet');
  const net2 = setup();
  live(net2, [net2.nodes[2]!], EVICT + 5_000, false);
  assert.is(members(net2).length, 7, 'silent but reported by nobody');
});

test('a member never heard from since the mint started gets three windows', () => {
  const net = makeNet({ scheme: fastScheme, members: 7, k: 4, q: 3, options: { evictAfterMs: EVICT, epochIntervalMs: 1_000 } });
  net.run(net.mint.tick());
  const late = net.nodes[2]!;
  live(net, [late], 2 * EVICT);
  assert.ok(members(net).includes(toHex(late.publicKey)), 'a slow starter is not evicted after one window');
  live(net, [late], EVICT + 2_000);
  assert.not.ok(members(net).includes(toHex(late.publicKey)), 'but is after three');
});

test('a live member reported unreachable by everyone stays', () => {
  const net = setup();
  const target = net.nodes[3]!;
  for (let t = 0; t < EVICT * 2; t += 1_000) {
    net.clock.t += 1_000;
    for (const n of net.nodes) report(net, n, n === target ? [] : [target]);
    net.run(net.mint.tick());
  }
  assert.is(members(net).length, 7);
});

test('evictions per epoch are capped (k - q) and never leave fewer than k members', () => {
  const net = setup(6);
  const dead = net.nodes.slice(0, 3);
  const events = live(net, dead, EVICT + 10_000);
  const sizes = events.flatMap((e) => (e.type === 'epoch' ? [e.record.members.length] : []));
  assert.equal(sizes, [5, 4], 'one eviction per epoch (k - q = 1), and none below k = 4');
  assert.is(members(net).length, 4);
});

test('reports that are forged, from non-members or from another sender are not counted as life', () => {
  const net = setup();
  const dead = net.nodes[2]!;
  const outsider = key(fastScheme, 'outsider');
  for (let t = 0; t < EVICT + 3_000; t += 1_000) {
    net.clock.t += 1_000;
    for (const n of net.nodes) if (n !== dead) report(net, n, [dead]);
    report(net, dead, [], net.nodes[0]!); // dead's report relayed by another peer: not its own connection
    report(net, outsider, [net.nodes[0]!]);
    net.run(net.mint.tick());
  }
  assert.not.ok(members(net).includes(toHex(dead.publicKey)));
  assert.is(members(net).length, 6, 'the outsider blamed nobody into eviction');
});

test('an evicted member re-joins through admission', () => {
  const net = setup();
  const dead = net.nodes[2]!;
  live(net, [dead], EVICT + 3_000);
  assert.not.ok(members(net).includes(toHex(dead.publicKey)));
  net.run(net.mint.receive({ node: toHex(dead.publicKey) }, { type: 'join', join: joinRequest(dead) }));
  live(net, [], 2_000);
  assert.ok(members(net).includes(toHex(dead.publicKey)));
});

test.run();
