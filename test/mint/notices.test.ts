import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex, utf8 } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import { AlertCodec, RepudiationCodec, doubleSpendEvidence, noticeHash, verify } from '../../protocol/objects.ts';
import { ed25519, fastScheme } from '../../protocol/signature.ts';
import { decodeMessage, encodeMessage } from '../../protocol/messages.ts';
import { Ring } from '../../protocol/ring.ts';
import { Rejection } from '../../protocol/errors.ts';
import {
  doubleSpend, equivocation, forgedDoubleSpend, key, makeNet, notice, scoreOf, sendNotice, transfer,
} from './helpers.ts';

const account = key(fastScheme, 'account');

test('valid double-spend notice: alert broadcast, signed by the mint, reporter +1 (ed25519)', () => {
  const acct = key(ed25519, 'account');
  const net = makeNet({ scheme: ed25519 });
  const [r] = net.nodes;
  const n = notice(r!, doubleSpend(acct, 3));
  const out = sendNotice(net, n);
  const alerts = out.send.filter((s) => s.msg.type === 'alert');
  assert.is(alerts.length, 1);
  assert.equal(alerts[0]!.to, { broadcast: true });
  const alert = alerts[0]!.msg.type === 'alert' ? alerts[0]!.msg.alert : undefined;
  assert.ok(alert);
  assert.is(alert!.alertSeq, 1);
  assert.ok(verify(AlertCodec, net.genesis.network, ed25519, net.genesis.mintKey, alert!));
  // The alert survives the wire (nodes decode it strictly).
  const back = decodeMessage(net.genesis.network, encodeMessage({ type: 'alert', alert: alert! }));
  assert.is(back.type, 'alert');
  assert.is(scoreOf(net, r!), 1);
  assert.is(net.mint.notices()[0]!.verdict, 'alert');
  assert.ok(out.events.some((e) => e.type === 'alert'));
  assert.ok(out.events.some((e) => e.type === 'reputation' && e.event.reason === 'valid-notice'));
});

test('second reporter of the same offence: duplicate, +0.1 once, no second alert; alertSeq increases per offence', () => {
  const net = makeNet({ scheme: fastScheme });
  const [a, b, c] = net.nodes;
  sendNotice(net, notice(a!, doubleSpend(account, 1)));
  const dup = sendNotice(net, notice(b!, doubleSpend(account, 1)));
  assert.not.ok(dup.send.some((s) => s.msg.type === 'alert' && 'broadcast' in s.to), 'no new broadcast');
  assert.ok(dup.send.some((s) => s.msg.type === 'alert' && 'node' in s.to && s.to.node === toHex(b!.publicKey)), 'alert handed to the reporter');
  assert.is(scoreOf(net, b!), 0.1);
  // The same reporter again, with a different pair for the same (from, seq): no farming.
  const t1 = transfer(account, sha256(utf8('x')), 1, 3n, 'p');
  const t2 = transfer(account, sha256(utf8('y')), 1, 3n, 'q');
  sendNotice(net, notice(b!, doubleSpendEvidence(t1, t2)));
  assert.is(scoreOf(net, b!), 0.1);
  assert.equal(net.mint.notices().map((x) => x.verdict), ['alert', 'duplicate', 'duplicate']);
  // A new offence gets the next alertSeq.
  const out = sendNotice(net, notice(c!, doubleSpend(account, 2)));
  const alert = out.send.find((s) => s.msg.type === 'alert');
  assert.is(alert!.msg.type === 'alert' && alert!.msg.alert.alertSeq, 2);
  assert.is(net.mint.alerts().length, 2);
});

test('a retried notice is answered the same and changes nothing', () => {
  const net = makeNet({ scheme: fastScheme });
  const n = notice(net.nodes[0]!, doubleSpend(account, 1));
  sendNotice(net, n);
  const again = sendNotice(net, n);
  assert.is(again.persist.length, 0);
  assert.is(again.send.length, 1);
  assert.equal(again.send[0]!.to, { node: toHex(net.nodes[0]!.publicKey) });
  assert.is(scoreOf(net, net.nodes[0]!), 1);
});

test('invalid notice: signed repudiation broadcast, reporter -10', () => {
  const net = makeNet({ scheme: fastScheme });
  const liar = net.nodes[1]!;
  const n = notice(liar, forgedDoubleSpend(account, liar, 1));
  const out = sendNotice(net, n);
  const rep = out.send.find((s) => s.msg.type === 'repudiation');
  assert.ok(rep);
  assert.equal(rep!.to, { broadcast: true });
  const r = rep!.msg.type === 'repudiation' ? rep!.msg.repudiation : undefined;
  assert.ok(verify(RepudiationCodec, net.genesis.network, fastScheme, net.genesis.mintKey, r!));
  assert.equal(r!.noticeHash, noticeHash(n));
  assert.equal(r!.reporter, liar.publicKey);
  assert.match(r!.reason, /not signed/);
  assert.is(scoreOf(net, liar), -10);
  assert.not.ok(out.send.some((s) => s.msg.type === 'alert'));
  // An account that did nothing is never alerted on (I7).
  assert.is(net.mint.alerts().length, 0);
});

test('invalid evidence shapes are all repudiated', () => {
  const net = makeNet({ scheme: fastScheme, reputation: { graylist: -1000, evict: -2000 } });
  const other = key(fastScheme, 'other');
  const r = net.nodes[0]!;
  const same = transfer(account, sha256(utf8('b')), 1);
  const cases = [
    doubleSpendEvidence(transfer(account, sha256(utf8('b')), 1), transfer(other, sha256(utf8('b')), 1)), // different from
    doubleSpendEvidence(transfer(account, sha256(utf8('b')), 1), transfer(account, sha256(utf8('b')), 2)), // different seq
    { kind: 'double-spend' as const, t1: same, t2: same }, // same transfer twice
    equivocation(net.nodes[1]!, account, 1, 7), // an epoch the mint never made
  ];
  for (const ev of cases) {
    const out = sendNotice(net, notice(r, ev));
    assert.ok(out.send.some((s) => s.msg.type === 'repudiation'), JSON.stringify(ev.kind));
  }
  assert.is(scoreOf(net, r), -40);
});

test('notices from non-members or with a bad reporter signature are not judged', () => {
  const net = makeNet({ scheme: fastScheme });
  const outsider = key(fastScheme, 'outsider');
  assert.equal(sendNotice(net, notice(outsider, doubleSpend(account, 1))), { send: [], persist: [], events: [] });
  const n = notice(net.nodes[0]!, doubleSpend(account, 1));
  const tampered = { ...n, sig: new Uint8Array(64) };
  assert.equal(sendNotice(net, tampered), { send: [], persist: [], events: [] });
  assert.is(net.mint.notices().length, 0);
});

test('graylist: below -20 a node’s notices are dropped unread', () => {
  const net = makeNet({ scheme: fastScheme });
  const liar = net.nodes[2]!;
  for (let i = 1; i <= 3; i++) sendNotice(net, notice(liar, forgedDoubleSpend(account, liar, i)));
  assert.is(scoreOf(net, liar), -30);
  // Even a true notice is now dropped: nothing sent, nothing persisted, no score change.
  const out = sendNotice(net, notice(liar, doubleSpend(account, 9)));
  assert.equal(out, { send: [], persist: [], events: [] });
  assert.is(scoreOf(net, liar), -30);
  assert.is(net.mint.notices().at(-1)!.verdict, 'graylisted');
});

test('equivocation notice: alert, reporter +1, voter banned', () => {
  const net = makeNet({ scheme: fastScheme });
  const [reporter, voter] = net.nodes;
  const out = sendNotice(net, notice(reporter!, equivocation(voter!, account, 4)));
  assert.ok(out.send.some((s) => s.msg.type === 'alert'));
  assert.is(scoreOf(net, reporter!), 1);
  assert.ok(net.mint.isBanned(voter!.publicKey));
  assert.ok(scoreOf(net, voter!) < net.genesis.reputation.evict);
  const ban = out.events.find((e) => e.type === 'reputation' && e.event.reason === 'equivocation');
  assert.ok(ban);
  // A second equivocation by the same node is the same offence: a duplicate.
  const dup = sendNotice(net, notice(net.nodes[2]!, equivocation(voter!, account, 5)));
  assert.not.ok(dup.send.some((s) => 'broadcast' in s.to));
  assert.is(net.mint.notices().at(-1)!.verdict, 'duplicate');
});

test('equivocation by a node that is not a custodian of the account is repudiated', () => {
  // 8 members, k=4: half the members are not custodians of a given account.
  const net = makeNet({ scheme: fastScheme, members: 8 });
  const r = new Ring(net.genesis.epoch0);
  const outsider = net.nodes.find((n) => !r.isCustodian(n.publicKey, account.publicKey))!;
  assert.ok(outsider);
  const reporter = net.nodes.find((n) => n !== outsider)!;
  const out = sendNotice(net, notice(reporter, equivocation(outsider, account, 1)));
  assert.ok(out.send.some((s) => s.msg.type === 'repudiation'));
  assert.not.ok(net.mint.isBanned(outsider.publicKey));
});

test('bad input never throws; an object no decoder could produce is a bug and reaches the driver', () => {
  const net = makeNet({ scheme: fastScheme });
  const [r] = net.nodes;
  // Well-formed but invalid: a forged signature, a reporter outside the ring, a message the mint does not take.
  const good = notice(r!, doubleSpend(account, 1));
  assert.not.throws(() => net.mint.receive({ mint: true }, { type: 'notice', notice: { ...good, sig: new Uint8Array(64) } }));
  assert.not.throws(() => net.mint.receive({ mint: true }, { type: 'notice', notice: notice(key(fastScheme, 'stranger'), doubleSpend(account, 2)) }));
  assert.not.throws(() => net.mint.receive({ mint: true }, { type: 'stored', transferId: new Uint8Array(32) }));
  // Bytes off the wire are checked by the decoder first: junk never becomes a message.
  assert.throws(() => decodeMessage(net.genesis.network, new Uint8Array([1, 2, 3])), (e: unknown) => e instanceof Rejection);
  // A structurally impossible object can only come from a bug in this process: not swallowed.
  const weird = { evidence: { kind: 'double-spend', t1: {}, t2: {} }, reporter: r!.publicKey, sig: new Uint8Array(64) };
  assert.throws(() => net.mint.receive({ mint: true }, { type: 'notice', notice: weird as never }), (e: unknown) => !(e instanceof Rejection));
});

test('an alert is broadcast again 3, 9, 21, 45 and 93 s after it is made (a node cut off from the first gossip gets it), then no more', () => {
  const net = makeNet({ scheme: fastScheme });
  const [r] = net.nodes;
  const made = net.clock.t;
  sendNotice(net, notice(r!, doubleSpend(account, 5)));
  const at: number[] = [];
  for (let t = made + 100; t <= made + 200_000; t += 100) {
    net.clock.t = t;
    const out = net.run(net.mint.tick());
    for (const s of out.send) if (s.msg.type === 'alert' && 'broadcast' in s.to && s.msg.alert.alertSeq === 1) at.push(t - made);
  }
  assert.equal(at, [3_000, 9_000, 21_000, 45_000, 93_000]);
});

test.run();
