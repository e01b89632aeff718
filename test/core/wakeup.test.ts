// nextWakeupAt (api.ts): a driver that skips idle ticks relies on it never being later
// than the time at which tick() has something to do.
import { test } from 'uvu';
import { DONE_FLUSH_MS } from '../../node/core/completion.ts';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import type { Output } from '../../protocol/ports.ts';
import type { NodeEvent } from '../../node/core/api.ts';

/** Wraps every node's tick: whenever a tick at `now` does anything, the wakeup read before it was <= now. */
function watchTicks(h: Harness): { busy: number; late: string[]; finite: number } {
  const seen = { busy: 0, late: [] as string[], finite: 0 };
  for (const [hex, m] of h.nodes) {
    const tick = m.tick.bind(m);
    m.tick = (): Output<NodeEvent> => {
      const wake = m.nextWakeupAt();
      if (wake !== Infinity) seen.finite++;
      const out = tick();
      if (out.send.length + out.persist.length + out.events.length > 0) {
        seen.busy++;
        if (wake > h.now) seen.late.push(`${hex.slice(0, 8)} at ${h.now}: wakeup ${wake}`);
      }
      return out;
    };
  }
  return seen;
}

test('nextWakeupAt is never later than a tick that does something (drops, retries, a conflict)', () => {
  const h = new Harness({ nodes: 10, seed: 3, faults: { drop: 0.3 }, options: { retryMs: 400, antiEntropyMs: 3_000 } });
  const seen = watchTicks(h);
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  const carol = h.scheme.signer(secret('carol'));
  h.issue(alice.publicKey, 1_000n);
  h.issue(bob.publicKey, 1_000n, 3);
  for (let i = 0; i < 20; i++) {
    h.run();
    h.tick(70);
  }
  // A transfer and a double spend of alice's seq 1 at two gateways: retries and a rival search.
  h.submit(2, h.transfer(alice, bob.publicKey, 5n, 1));
  h.submit(7, h.transfer(alice, carol.publicKey, 6n, 1));
  h.submit(4, h.transfer(bob, carol.publicKey, 7n, 1));
  for (let i = 0; i < 300; i++) {
    h.run();
    h.tick(i % 3 === 0 ? 130 : 45);
  }
  assert.equal(seen.late, []);
  assert.ok(seen.busy > 20, `ticks that did something: ${seen.busy}`);
  assert.ok(seen.finite > 0);
});

test('an idle node wakes only for anti-entropy; a submit brings its wakeup to the retry', () => {
  const h = new Harness({ nodes: 6, options: { retryMs: 500, antiEntropyMs: 10_000 } });
  const m = h.node(1);
  const idle = m.nextWakeupAt();
  assert.ok(idle > h.now && idle <= h.now + 10_000, `idle wakeup ${idle} at ${h.now}`);
  const alice = h.scheme.signer(secret('alice'));
  h.issue(alice.publicKey, 10n, 1);
  assert.is(m.nextWakeupAt(), Math.min(idle, h.now + 500));
  h.run();
  assert.is(m.activeTransfers, 0);
  // A `done` for the keeper, if it needs one, goes in the next batch (protocol.md §5a); then it is idle again.
  assert.ok([idle, h.now + DONE_FLUSH_MS].includes(m.nextWakeupAt()), `wakeup ${m.nextWakeupAt()}`);
  h.tick(DONE_FLUSH_MS);
  h.run();
  assert.is(m.nextWakeupAt(), idle);
});

test.run();
