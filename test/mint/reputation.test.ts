import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { ed25519, fastScheme } from '../../protocol/signature.ts';
import { verifyReputationEvent } from '../../mint/core/reputation.ts';
import { doubleSpend, equivocation, forgedDoubleSpend, joinRequest, key, makeNet, notice, scoreOf, sendNotice } from './helpers.ts';

const account = key(fastScheme, 'account');

/** Admits a fresh node so membership changes and the next tick makes an epoch. */
function nextEpoch(net: ReturnType<typeof makeNet>, name: string) {
  const j = joinRequest(key(net.scheme, name));
  net.run(net.mint.receive({ node: toHex(j.node) }, { type: 'join', join: j }));
  net.clock.t += net.mint.options.epochIntervalMs;
  return net.run(net.mint.tick());
}

test('decay: each epoch scores move ×0.9 toward 0, both signs, as signed decay events', () => {
  const net = makeNet({ scheme: fastScheme });
  const [good, bad] = net.nodes;
  sendNotice(net, notice(good!, doubleSpend(account, 1)));
  sendNotice(net, notice(bad!, forgedDoubleSpend(account, bad!, 2)));
  const out = nextEpoch(net, 'joiner1');
  const decays = out.events.filter((e) => e.type === 'reputation' && e.event.reason === 'decay');
  assert.is(decays.length, 2);
  assert.ok(Math.abs(scoreOf(net, good!) - 0.9) < 1e-12);
  assert.ok(Math.abs(scoreOf(net, bad!) + 9) < 1e-12);
  nextEpoch(net, 'joiner2');
  assert.ok(Math.abs(scoreOf(net, good!) - 0.81) < 1e-12);
  assert.ok(Math.abs(scoreOf(net, bad!) + 8.1) < 1e-12);
  // Many epochs later both are (exactly) 0 and decay stops emitting events.
  for (let i = 0; i < 300; i++) nextEpoch(net, `j${i}`);
  assert.is(scoreOf(net, good!), 0);
  assert.is(scoreOf(net, bad!), 0);
  const last = nextEpoch(net, 'late');
  assert.not.ok(last.events.some((e) => e.type === 'reputation'));
});

test('reputation events are numbered, consistent and verify with the mint key (ed25519)', () => {
  const acct = key(ed25519, 'account');
  const net = makeNet({ scheme: ed25519 });
  sendNotice(net, notice(net.nodes[0]!, doubleSpend(acct, 1)));
  sendNotice(net, notice(net.nodes[1]!, doubleSpend(acct, 1)));
  sendNotice(net, notice(net.nodes[2]!, forgedDoubleSpend(acct, net.nodes[2]!, 5)));
  sendNotice(net, notice(net.nodes[0]!, equivocation(net.nodes[3]!, acct, 2)));
  nextEpoch(net, 'j');
  const events = net.mint.reputationEvents();
  assert.equal(events.map((e) => e.reason).slice(0, 5), ['valid-notice', 'duplicate-notice', 'invalid-notice', 'valid-notice', 'equivocation']);
  const last = new Map<string, number>();
  events.forEach((e, i) => {
    assert.is(e.seq, i + 1);
    assert.ok(verifyReputationEvent(net.genesis.network, ed25519, net.genesis.mintKey, e), `event ${e.seq} verifies`);
    const k = toHex(e.node);
    assert.ok(Math.abs((last.get(k) ?? 0) + e.delta - e.score) < 1e-9, 'score = previous + delta');
    last.set(k, e.score);
  });
  // A tampered event, or one checked with another key, does not verify.
  const e0 = events[0]!;
  assert.not.ok(verifyReputationEvent(net.genesis.network, ed25519, net.genesis.mintKey, { ...e0, score: 99 }));
  assert.not.ok(verifyReputationEvent(net.genesis.network, ed25519, net.nodes[0]!.publicKey, e0));
  assert.not.ok(verifyReputationEvent('othernet', ed25519, net.genesis.mintKey, e0));
  // The queryable map agrees with the last event per node.
  for (const [k, s] of last) assert.is(net.mint.reputation().get(k), s);
});

test('eviction: a member below the eviction line leaves at the next epoch', () => {
  // Graylist set below eviction so enough invalid notices get through to cross it.
  const net = makeNet({ scheme: fastScheme, members: 5, reputation: { graylist: -100, evict: -50 } });
  const liar = net.nodes[4]!;
  for (let i = 1; i <= 6; i++) sendNotice(net, notice(liar, forgedDoubleSpend(account, liar, i)));
  assert.is(scoreOf(net, liar), -60);
  assert.ok(net.mint.currentEpoch().members.some((m) => toHex(m) === toHex(liar.publicKey)), 'still a member until the epoch');
  net.clock.t += net.mint.options.epochIntervalMs;
  const out = net.run(net.mint.tick());
  const evicted = out.events.find((e) => e.type === 'evicted');
  assert.ok(evicted && evicted.type === 'evicted' && toHex(evicted.node) === toHex(liar.publicKey));
  assert.is(net.mint.currentEpoch().epoch, 1);
  assert.not.ok(net.mint.currentEpoch().members.some((m) => toHex(m) === toHex(liar.publicKey)));
  // It cannot rejoin while below the line.
  const j = joinRequest(liar);
  const again = net.run(net.mint.receive({ node: toHex(liar.publicKey) }, { type: 'join', join: j }));
  assert.is(again.send.length, 0);
  assert.is(net.mint.pendingAdmissions().length, 0);
});

test('equivocation: banned, evicted at the next epoch, score never decays back', () => {
  const net = makeNet({ scheme: fastScheme, members: 5 });
  const voter = net.nodes[1]!;
  sendNotice(net, notice(net.nodes[0]!, equivocation(voter, account, 1)));
  const banned = scoreOf(net, voter);
  net.clock.t += net.mint.options.epochIntervalMs;
  const out = net.run(net.mint.tick());
  const ev = out.events.find((e) => e.type === 'evicted');
  assert.ok(ev && ev.type === 'evicted' && ev.why === 'proven equivocation');
  assert.not.ok(net.mint.currentEpoch().members.some((m) => toHex(m) === toHex(voter.publicKey)));
  assert.is(scoreOf(net, voter), banned, 'no decay for a banned node');
  // Its own notices are dropped; it cannot be admitted again.
  assert.equal(sendNotice(net, notice(voter, doubleSpend(account, 3))).send, []);
  let code = '';
  try {
    net.mint.admit(voter.publicKey);
  } catch (e) {
    code = (e as { code: string }).code;
  }
  assert.is(code, 'BANNED');
});

test.run();
