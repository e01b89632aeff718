// Internal invariants are assertions, distinct from bad input (a Rejection): the
// machines swallow a Rejection and let an AssertionError through, at the persist and
// restore boundaries; the daemon's driver treats one as fatal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { assert as check, AssertionError } from '../../protocol/assert.ts';
import { Rejection } from '../../protocol/errors.ts';
import { Keys, parseKey, Prefix, restoreOrder } from '../../node/core/record-keys.ts';
import { Driver } from '../../runtime/driver.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import type { Store } from '../../runtime/store.ts';
import { MemoryStore } from '../../protocol/ports.ts';
import { MintMachine } from '../../mint/core/mint-machine.ts';
import { entryRecord } from '../../mint/core/mint-log.ts';
import { Harness } from './harness.ts';

test('assert throws an AssertionError, never a Rejection', () => {
  check(true, 'fine');
  try {
    check(1 > 2, 'one is not above two');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, AssertionError);
    assert.not.instance(e, Rejection);
    assert.is((e as Error).message, 'one is not above two');
  }
});

test('record keys: every key built by Keys parses back to its kind and fields; restore reads only known kinds', () => {
  const from = 'ab'.repeat(32);
  assert.equal(parseKey(Keys.lock(from, 7)), { kind: 'lock', fields: [from, '000000000007'] });
  assert.equal(parseKey(Keys.pin(from, 'cd'.repeat(32))), { kind: 'pin', fields: [from, 'cd'.repeat(32)] });
  assert.equal(parseKey(Keys.alert(3)), { kind: 'alert', fields: ['000000000003'] });
  assert.equal(parseKey(Keys.historyIndex)?.kind, 'meta');
  assert.is(parseKey('zz/1'), undefined);
  assert.is(parseKey('nokind'), undefined);
  for (const withReader of [false, true]) for (const k of restoreOrder(withReader)) assert.ok(Prefix[k].endsWith('/'));
});

test('a node machine refuses to persist or restore a key outside the record table (a bug, not input)', () => {
  const h = new Harness({ nodes: 4, k: 4, q: 3 });
  const m = h.node(0) as unknown as { restoreRecord(k: string, v: Uint8Array): void; ctx: { persist(k: string, v: Uint8Array | null): void } };
  assert.throws(() => m.restoreRecord('zz/oops', new Uint8Array(1)), (e: unknown) => e instanceof AssertionError);
  assert.throws(() => m.ctx.persist('zz/oops', new Uint8Array(1)), (e: unknown) => e instanceof AssertionError);
});

test('a mint restore stops loudly on a log with a gap', () => {
  const h = new Harness({ nodes: 4, k: 4, q: 3 });
  const store = new MemoryStore();
  const rec = entryRecord(2, { kind: 'admitted', node: new Uint8Array(32) });
  store.apply([rec]);
  assert.throws(() => new MintMachine({ genesis: h.genesis, signer: h.mint, scheme: h.scheme, clock: { now: () => 0 }, restore: store }), (e: unknown) => e instanceof AssertionError);
});

test('the driver treats an AssertionError from a step as fatal and stops; a Rejection or other error is not', async () => {
  const fatal: unknown[] = [];
  const driver = new Driver<never>({
    store: { onBatch: null, commit: async () => {} } as unknown as Store,
    transport: { send: () => {} },
    tick: () => ({ send: [], persist: [], events: [] }),
    onEvents: () => {},
    metrics: createMetrics('node'),
    log: pino({ level: 'silent' }),
    onFatal: (e) => void fatal.push(e),
  });
  await driver.step('x', () => {
    throw new Error('plain');
  }).catch(() => {});
  assert.is(fatal.length, 0);
  await driver.step('x', () => {
    throw new AssertionError('broken');
  }).catch(() => {});
  assert.is(fatal.length, 1);
  await driver.step('x', () => ({ send: [], persist: [], events: [] })).then(
    () => assert.unreachable('a stopped driver runs no more steps'),
    () => {},
  );
});

test.run();
