// Admission under a flood (protocol.md §7, Admission): a join counts only from the key it
// names, each source is judged once per window, and at most joinCapFor(q) new members
// enter per epoch, fewer than q of a custody group within one handoff window.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { fastScheme } from '../../protocol/signature.ts';
import { joinCapFor, MAX_SOURCES_PER_WINDOW } from '../../mint/core/admission.ts';
import { joinRequest, key, makeNet } from './helpers.ts';

test('the default cap keeps the new members of two epochs below q', () => {
  for (let q = 3; q <= 40; q++) assert.ok(2 * joinCapFor(q) < q, `q=${q}`);
  assert.is(joinCapFor(3), 1);
  assert.is(joinCapFor(2), 1);
  assert.is(joinCapFor(7), 3);
  const net = makeNet({ scheme: fastScheme, k: 4, q: 3 });
  assert.is(net.mint.options.maxJoinsPerEpoch, 1, 'derived from the genesis q unless given');
});

test('600 joins from one peer naming arbitrary keys admit nobody', () => {
  const net = makeNet({ scheme: fastScheme });
  const peer = toHex(key(fastScheme, 'attacker').publicKey);
  let admitted = 0;
  for (let i = 0; i < 600; i++) {
    const out = net.run(net.mint.receive({ node: peer }, { type: 'join', join: joinRequest(key(fastScheme, `sybil${i}`)) }));
    admitted += out.events.filter((e) => e.type === 'admitted').length;
    assert.equal(out.send, [], 'nothing is sent to a join that names another key');
  }
  assert.is(admitted, 0);
  assert.is(net.mint.pendingAdmissions().length, 0);
});

test('600 joins from one peer naming itself: one judgement per window, one admission', () => {
  const net = makeNet({ scheme: fastScheme });
  const me = key(fastScheme, 'flooder');
  let answered = 0;
  for (let i = 0; i < 600; i++) {
    const out = net.run(net.mint.receive({ node: toHex(me.publicKey) }, { type: 'join', join: joinRequest(me, i) }));
    answered += out.send.length;
  }
  assert.is(net.mint.pendingAdmissions().length, 1);
  assert.is(answered, 2, 'the admission and the one re-join the admission allows; the rest dropped unread');
});

test('600 distinct joiners over 10 epochs add at most the cap per epoch', () => {
  const net = makeNet({ scheme: fastScheme, k: 4, q: 3 });
  const cap = net.mint.options.maxJoinsPerEpoch;
  const start = net.mint.currentEpoch().members.length;
  for (let e = 0; e < 10; e++) {
    const before = net.mint.currentEpoch().members.length;
    for (let i = 0; i < 60; i++) {
      const s = key(fastScheme, `j${e}-${i}`);
      net.run(net.mint.receive({ node: toHex(s.publicKey) }, { type: 'join', join: joinRequest(s) }));
    }
    net.clock.t += net.mint.options.epochIntervalMs;
    net.run(net.mint.tick());
    assert.ok(net.mint.currentEpoch().members.length - before <= cap);
  }
  assert.is(net.mint.currentEpoch().members.length - start, 10 * cap);
});

test('the per-window source set is bounded', () => {
  const net = makeNet({ scheme: fastScheme, options: { maxJoinsPerEpoch: 1 } });
  for (let i = 0; i < MAX_SOURCES_PER_WINDOW + 10; i++) {
    const s = key(fastScheme, `b${i}`);
    net.mint.receive({ node: toHex(s.publicKey) }, { type: 'join', join: joinRequest(s) });
  }
  assert.is(net.mint.pendingAdmissions().length, 1);
});

test.run();
