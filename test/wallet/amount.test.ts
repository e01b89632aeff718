import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { formatCoins, parseCoins } from '../../wallet/amount.ts';
import { Rejection } from '../../protocol/errors.ts';
import { U64_MAX } from '../../protocol/codec.ts';

function rejects(input: string, decimals: number, pattern: RegExp): void {
  try {
    parseCoins(input, decimals, 'RMT');
  } catch (e) {
    assert.instance(e, Rejection);
    assert.is((e as Rejection).code, 'BAD_AMOUNT');
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`"${input}" was accepted`);
}

test('coin strings parse exactly to base units', () => {
  assert.is(parseCoins('12.5', 6), 12_500_000n);
  assert.is(parseCoins('0.000001', 6), 1n);
  assert.is(parseCoins('1', 0), 1n);
  assert.is(parseCoins('0.1', 18), 100_000_000_000_000_000n);
  assert.is(parseCoins(' 7.25 ', 2), 725n);
  // a float would give 0.30000000000000004
  assert.is(parseCoins('0.3', 6), parseCoins('0.1', 6) + parseCoins('0.2', 6));
  assert.is(parseCoins('18446744073709.551615', 6), U64_MAX);
});

test('bad amounts give one clear reason', () => {
  rejects('-1', 6, /positive/);
  rejects('0', 6, /greater than zero/);
  rejects('0.000', 6, /greater than zero/);
  rejects('1.0000001', 6, /7 decimal places; RMT has at most 6/);
  rejects('1.5', 0, /at most 0/);
  rejects('abc', 6, /number of RMT/);
  rejects('1e3', 6, /number/);
  rejects('1,5', 6, /number/);
  rejects('', 6, /number/);
  rejects('.5', 6, /number/);
  rejects('5.', 6, /number/);
  rejects('0x10', 6, /number/);
  rejects('18446744073709.551616', 6, /exceeds/);
});

test('formatCoins shows coin units without trailing zeros', () => {
  assert.is(formatCoins(12_500_000n, 6), '12.5');
  assert.is(formatCoins(100_000_000n, 6), '100');
  assert.is(formatCoins(1n, 6), '0.000001');
  assert.is(formatCoins(0n, 6), '0');
  assert.is(formatCoins(42n, 0), '42');
});

test('format and parse round-trip for any amount and precision', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: U64_MAX }), fc.integer({ min: 0, max: 18 }), (n, d) => {
      assert.is(parseCoins(formatCoins(n, d), d), n);
    }),
    { numRuns: 500, seed: 7 },
  );
});

test.run();
