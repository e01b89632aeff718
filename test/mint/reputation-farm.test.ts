// Reputation that cannot be farmed (protocol.md §6, Rewards): a double-spend notice earns its
// reporter something only with proof that the account had funds at stake, and at most
// MAX_REWARDS_PER_EPOCH notices a reporter per epoch earn anything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fastScheme } from '../../protocol/signature.ts';
import { MAX_REWARDS_PER_EPOCH } from '../../mint/core/reputation.ts';
import { doubleSpend, forgedDoubleSpend, fundingProof, joinRequest, key, makeNet, notice, scoreOf, sendNotice, transfer, vote } from './helpers.ts';

const victim = key(fastScheme, 'victim');

test('30 self-made reports with throwaway keys, then 4 false accusations: no better than a plain false accuser', () => {
  const net = makeNet({ scheme: fastScheme, members: 6 });
  const farmer = net.nodes[4]!;
  const plain = net.nodes[5]!;
  let alerts = 0;
  for (let i = 0; i < 30; i++) {
    const throwaway = key(fastScheme, `throwaway${i}`);
    const out = sendNotice(net, notice(farmer, doubleSpend(throwaway, 1)), null);
    alerts += out.send.filter((s) => s.msg.type === 'alert').length;
  }
  assert.is(alerts, 30, 'every real double spend is still alerted: the accounts are frozen everywhere');
  assert.is(scoreOf(net, farmer), 0, 'a throwaway key had nothing at stake: no reward');
  for (let i = 1; i <= 4; i++) {
    sendNotice(net, notice(farmer, forgedDoubleSpend(victim, farmer, 100 + i)));
    sendNotice(net, notice(plain, forgedDoubleSpend(victim, plain, 200 + i)));
  }
  assert.is(scoreOf(net, plain), -30, 'the plain accuser: graylisted after three, the fourth dropped unread');
  assert.ok(scoreOf(net, farmer) <= scoreOf(net, plain), `farmer ${scoreOf(net, farmer)} vs plain ${scoreOf(net, plain)}`);
});

test('a proof that does not name the account, or does not verify, earns nothing', () => {
  const net = makeNet({ scheme: fastScheme, members: 6 });
  const farmer = net.nodes[4]!;
  const a = key(fastScheme, 'a');
  const other = fundingProof(net, key(fastScheme, 'someone else').publicKey);
  sendNotice(net, notice(farmer, doubleSpend(a, 1)), other);
  const forged = fundingProof(net, a.publicKey);
  const bad = { ...forged, votes: forged.votes.map((v) => ({ ...v, epoch: 0, voter: farmer.publicKey })) };
  sendNotice(net, notice(farmer, doubleSpend(key(fastScheme, 'b'), 1)), { ...bad, transfer: transfer(net.mintKey, key(fastScheme, 'b').publicKey, 1, 5n, 'x') });
  const selfVoted = { transfer: transfer(net.mintKey, key(fastScheme, 'c').publicKey, 1, 5n, 'y'), votes: [vote(farmer, transfer(net.mintKey, key(fastScheme, 'c').publicKey, 1, 5n, 'y'))] };
  sendNotice(net, notice(farmer, doubleSpend(key(fastScheme, 'c'), 1)), selfVoted);
  assert.is(scoreOf(net, farmer), 0);
});

test('funded throwaways: rewards capped per reporter per epoch, and the cap resets with the epoch', () => {
  const net = makeNet({ scheme: fastScheme, members: 6 });
  const farmer = net.nodes[4]!;
  for (let i = 0; i < 30; i++) sendNotice(net, notice(farmer, doubleSpend(key(fastScheme, `funded${i}`), 1)));
  assert.is(scoreOf(net, farmer), MAX_REWARDS_PER_EPOCH, `30 funded reports in one epoch earn ${MAX_REWARDS_PER_EPOCH}`);
  // A new epoch (someone joins): the cap is per epoch.
  const j = key(fastScheme, 'joiner');
  net.run(net.mint.receive({ node: Buffer.from(j.publicKey).toString('hex') }, { type: 'join', join: joinRequest(j) }));
  net.clock.t += net.mint.options.epochIntervalMs;
  net.run(net.mint.tick());
  const before = scoreOf(net, farmer);
  for (let i = 30; i < 40; i++) sendNotice(net, notice(farmer, doubleSpend(key(fastScheme, `funded${i}`), 1)));
  assert.ok(Math.abs(scoreOf(net, farmer) - before - MAX_REWARDS_PER_EPOCH) < 1e-9);
});

test.run();
