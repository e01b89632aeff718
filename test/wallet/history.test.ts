// `wallet history` merge and layout: the wallet's own transfers with the custodians'
// credits and unsigned-here debits, newest first, aligned, amounts in coins.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatHistory, mergeHistory, type NodeHistory } from '../../wallet/history.ts';
import type { WalletTransfer } from '../../wallet/keystore.ts';

const id = (c: string) => c.repeat(64);
const tx = (seq: number, idc: string, amount: string, status: string, signedAt: string): WalletTransfer => ({
  transfer: { id: id(idc), from: 'rm1me', to: 'rm1bob', amount, seq, prev: '0'.repeat(64), memo: '', sig: '00' },
  status,
  signedAt,
});
const ledger = [tx(1, 'a', '2500000', 'replaced', '2024-01-01T00:00:00Z'), tx(1, 'b', '3000000', 'stored', '2024-01-01T00:01:00Z'), tx(2, 'c', '1000000', 'pending', '2024-01-02T00:00:00Z')];
const node: NodeHistory = {
  credits: [{ transferId: id('d'), amount: '10000000', from: 'rm1mint' }, { transferId: id('e'), amount: '500000' }],
  debits: [
    { seq: 1, transferId: id('b'), to: 'rm1bob', amount: '3000000', status: 'certified' },
    { seq: 3, transferId: id('f'), to: 'rm1carol', amount: '7000000', status: 'locked' },
  ],
};

test('merge: incoming credits first (newest applied first), then outgoing by seq, newest first; no duplicates', () => {
  const e = mergeHistory(ledger, node);
  assert.equal(e.map((x) => [x.direction, x.transferId[0], x.seq, x.status]), [
    ['in', 'e', undefined, 'credited'],
    ['in', 'd', undefined, 'credited'],
    ['out', 'f', 3, 'pending'],
    ['out', 'c', 2, 'pending'],
    ['out', 'b', 1, 'stored'],
    ['out', 'a', 1, 'replaced'],
  ]);
  assert.is(e[1]!.counterparty, 'rm1mint');
  assert.is(e[0]!.counterparty, undefined);
  assert.is(e[2]!.counterparty, 'rm1carol');
});

test('merge without a node answer is the ledger alone', () => {
  assert.equal(mergeHistory(ledger, undefined).map((x) => x.transferId[0]), ['c', 'b', 'a']);
  assert.equal(mergeHistory([], undefined), []);
});

test('format: aligned columns, coin units with the symbol, direction and counterparty', () => {
  const lines = formatHistory(mergeHistory(ledger, node), { decimals: 6, symbol: 'RMT' });
  assert.match(lines[0]!, /^seq +status +amount +dir +counterparty +transfer$/);
  assert.match(lines[1]!, /^- +credited +0\.5 RMT +in from +\(unknown\) +eeeeeeeeeeeeeeee$/);
  assert.match(lines[2]!, /^- +credited +10 RMT +in from +rm1mint +d{16}$/);
  assert.match(lines[5]!, /^1 +stored +3 RMT +out to +rm1bob +b{16}$/);
  // the amount column is right-aligned: every amount ends at the same column
  const ends = lines.slice(1).map((l) => l.indexOf('RMT'));
  assert.ok(ends.every((x) => x === ends[0]), JSON.stringify(ends));
  assert.match(formatHistory(mergeHistory([], node))[1]!, /0 base units|500000 base units/);
});

test.run();
