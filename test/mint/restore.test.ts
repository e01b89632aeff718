import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex, utf8 } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import { noticeHash } from '../../protocol/objects.ts';
import { encodeMessage } from '../../protocol/messages.ts';
import { ed25519, fastScheme } from '../../protocol/signature.ts';
import type { MintMachine } from '../../mint/core/mint-machine.ts';
import { doubleSpend, equivocation, forgedDoubleSpend, joinRequest, key, makeNet, notice, sendNotice, type Net } from './helpers.ts';

function snapshot(m: MintMachine) {
  return {
    epochs: m.epochs().map((e) => encodeMessage({ type: 'epoch', record: e })),
    reputation: [...m.reputation()].sort(),
    events: m.reputationEvents(),
    notices: m.notices().map((n) => ({ v: n.verdict, at: n.at, h: toHex(noticeHash(n.notice)) })),
    alerts: m.alerts().map((a) => encodeMessage({ type: 'alert', alert: a })),
    issued: m.issued().map((t) => encodeMessage({ type: 'submit', transfer: t })),
    total: m.issuedTotal(),
    pending: [...m.pendingAdmissions()],
  };
}

function scenario(net: Net): void {
  const acct = key(net.scheme, 'acct');
  const alice = sha256(utf8('alice'));
  net.run(net.mint.issue(alice, 100n).output);
  net.run(net.mint.issue(alice, 5n, utf8('again')).output);
  sendNotice(net, notice(net.nodes[0]!, doubleSpend(acct, 1)));
  sendNotice(net, notice(net.nodes[1]!, doubleSpend(acct, 1)));
  sendNotice(net, notice(net.nodes[2]!, forgedDoubleSpend(acct, net.nodes[2]!, 2)));
  sendNotice(net, notice(net.nodes[0]!, equivocation(net.nodes[4]!, acct, 3)));
  const j = joinRequest(key(net.scheme, 'joiner'));
  net.run(net.mint.receive({ node: toHex(j.node) }, { type: 'join', join: j }));
  net.clock.t += 5_000;
  net.run(net.mint.tick());
  const j2 = joinRequest(key(net.scheme, 'joiner2'));
  net.run(net.mint.receive({ node: toHex(j2.node) }, { type: 'join', join: j2 }));
  net.run(net.mint.issue(alice, 1n).output);
}

for (const scheme of [fastScheme, ed25519]) {
  test(`restore from persisted records gives an identical mint (${scheme.name})`, () => {
    const net = makeNet({ scheme, members: 6 });
    scenario(net);
    const before = net.mint;
    const snap = snapshot(before);
    assert.ok(snap.events.length >= 5 && snap.epochs.length === 2 && snap.pending.length === 1, 'the scenario exercised every entry kind');
    const after = net.restart();
    assert.equal(snapshot(after), snap);
    // And it answers the next steps exactly as the original would.
    net.clock.t += 5_000;
    const a = before.tick();
    const b = after.tick();
    assert.equal(b.persist, a.persist);
    assert.equal(b.send.map((s) => encodeMessage(s.msg)), a.send.map((s) => encodeMessage(s.msg)));
    const x = before.issue(sha256(utf8('bob')), 3n);
    const y = after.issue(sha256(utf8('bob')), 3n);
    assert.equal(encodeMessage({ type: 'submit', transfer: y.transfer }), encodeMessage({ type: 'submit', transfer: x.transfer }));
    assert.equal(y.output.send[0]!.to, x.output.send[0]!.to);
  });
}

test('a restored mint answers a retried notice without judging it again', () => {
  const net = makeNet({ scheme: fastScheme });
  const n = notice(net.nodes[0]!, forgedDoubleSpend(key(fastScheme, 'a'), net.nodes[0]!, 1));
  sendNotice(net, n);
  net.restart();
  const again = sendNotice(net, n);
  assert.is(again.persist.length, 0);
  assert.is(again.send[0]!.msg.type, 'repudiation');
  assert.is(net.mint.reputation().get(toHex(net.nodes[0]!.publicKey)), -10);
});

test.run();
