// Seq safety: one seq, one transfer, unless the user says --seq explicitly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chainOf, planSeq, recordSigned, releaseSeq, unsettled } from '../../wallet/ledger.ts';
import type { WalletState } from '../../wallet/keystore.ts';
import type { TransferJson } from '../../protocol/json.ts';
import { CliError } from '../../runtime/cli-output.ts';

const Z = '0'.repeat(64);
const id = (n: number) => n.toString(16).padStart(64, 'a');
const tj = (seq: number, prev: string, n = seq): TransferJson => ({ id: id(n), from: 'rm1x', to: 'rm1y', amount: '1', seq, prev, memo: '', sig: '0'.repeat(128) });
const empty = (): WalletState => ({ nextSeq: 1, head: Z, transfers: [] });

test('a new wallet starts at seq 1 with a zero prev, and chains after each signature', () => {
  let s = empty();
  assert.equal(planSeq(s, {}), { seq: 1, prev: Z, warnings: [] });
  s = recordSigned(s, tj(1, Z), 't');
  assert.equal(planSeq(s, {}), { seq: 2, prev: id(1), warnings: [] });
  s = recordSigned(s, tj(2, id(1)), 't');
  assert.is(s.nextSeq, 3);
  assert.is(s.head, id(2));
});

test('a signed but unsettled transfer keeps its seq: the next plan never reuses it', () => {
  let s = recordSigned(empty(), tj(1, Z), 't');
  s.transfers[0]!.status = 'pending';
  assert.equal(unsettled(s).map((t) => t.transfer.id), [id(1)]);
  const p = planSeq(s, {});
  assert.is(p.seq, 2, 'seq 1 is held by the pending transfer');
  // rejected is not settled either: it may still be locked at some custodian
  s.transfers[0]!.status = 'rejected';
  assert.is(planSeq(s, {}).seq, 2);
  assert.is(unsettled(s).length, 1);
  s.transfers[0]!.status = 'final';
  assert.is(unsettled(s).length, 0);
});

test('re-recording the same transfer is idempotent', () => {
  let s = recordSigned(empty(), tj(1, Z), 't');
  s = recordSigned(s, tj(1, Z), 't');
  assert.is(s.transfers.length, 1);
  assert.is(s.nextSeq, 2);
});

test('explicit --seq over a used seq warns and replaces the old transfer', () => {
  let s = recordSigned(empty(), tj(1, Z), 't');
  s.transfers[0]!.status = 'rejected';
  const p = planSeq(s, { seq: 1 });
  assert.is(p.seq, 1);
  assert.is(p.prev, Z);
  assert.is(p.warnings.length, 1);
  assert.match(p.warnings[0]!, /already used by transfer .* double spender/);
  s = recordSigned(s, tj(1, Z, 99), 't');
  assert.is(s.transfers.find((t) => t.transfer.id === id(1))!.status, 'replaced');
  assert.equal(unsettled(s).map((t) => t.transfer.id), [id(99)], 'only the new one is resubmitted');
  assert.is(s.head, id(99));
  assert.is(s.nextSeq, 2);
});

test('explicit --seq finds prev in the ledger or from the network, else asks for --prev', () => {
  const s = recordSigned(empty(), tj(1, Z), 't');
  assert.is(planSeq(s, { seq: 2 }).prev, id(1));
  assert.is(planSeq(empty(), { seq: 4, account: { seq: 3, head: id(3) } }).prev, id(3));
  try {
    planSeq(empty(), { seq: 4 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CliError);
    assert.match((e as Error).message, /--prev/);
  }
  assert.throws(() => planSeq(empty(), { seq: 0 }), /positive/);
  assert.throws(() => planSeq(empty(), { seq: 2, prev: 'xyz' }), /64 lowercase hex/);
});

test('a network ahead of the ledger (restored key) moves the plan forward, never back', () => {
  const p = planSeq(empty(), { account: { seq: 5, head: id(5) } });
  assert.equal([p.seq, p.prev], [6, id(5)]);
  assert.is(p.warnings.length, 1);
  const s = recordSigned(recordSigned(empty(), tj(1, Z), 't'), tj(2, id(1)), 't');
  const q = planSeq(s, { account: { seq: 1, head: id(1) } });
  assert.equal([q.seq, q.prev], [3, id(2)], 'a lagging replica does not roll the wallet back');
});

test('seqs are per network: a fresh network starts at 1; the first network used takes the old single chain', () => {
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  let s = recordSigned(empty(), tj(1, Z), 't'); // a ledger from before binding
  assert.equal(chainOf(s, A), { nextSeq: 2, head: id(1) }, 'the first network continues the old chain (never reuses its seqs)');
  s = recordSigned(s, tj(2, id(1)), 't', A);
  assert.is(s.transfers[1]!.genesis, A);
  assert.equal(chainOf(s, A), { nextSeq: 3, head: id(2) });
  assert.equal(chainOf(s, B), { nextSeq: 1, head: Z }, 'another network: its own chain');
  assert.equal(planSeq(s, { genesis: B }), { seq: 1, prev: Z, warnings: [] });
  s = recordSigned(s, tj(1, Z, 77), 't', B);
  assert.is(s.transfers.find((t) => t.transfer.id === id(2))!.status, 'signed', 'signing seq 1 on B replaces nothing on A');
  assert.is(s.transfers[0]!.genesis, A, 'the first network bound the old transfers');
  assert.is(s.transfers[0]!.status, 'signed', 'not replaced by seq 1 on B');
  assert.equal(unsettled(s, B).map((t) => t.transfer.id), [id(77)]);
  assert.equal(unsettled(s, A).map((t) => t.transfer.id), [id(1), id(2)]);
});

test('a released seq goes back to the chain when it was the head, and the transfer is never resubmitted', () => {
  const A = 'a'.repeat(64);
  let s = recordSigned(recordSigned(empty(), tj(1, Z), 't', A), tj(2, id(1)), 't', A);
  s = releaseSeq(s, id(2), A, 'it can never verify on this network');
  assert.equal(chainOf(s, A), { nextSeq: 2, head: id(1) });
  assert.is(s.transfers[1]!.status, 'released');
  assert.equal(unsettled(s, A).map((t) => t.transfer.id), [id(1)]);
  assert.equal(planSeq(s, { genesis: A }), { seq: 2, prev: id(1), warnings: [] });
  // a released transfer below the head: marked, the chain stays (a later seq is chained on it)
  let u = recordSigned(recordSigned(empty(), tj(1, Z), 't', A), tj(2, id(1)), 't', A);
  u = releaseSeq(u, id(1), A, 'x');
  assert.equal(chainOf(u, A), { nextSeq: 3, head: id(2) });
});

test.run();
