// The simulator's clients resubmit only as the real wallet does (wallet/submission.ts):
// while a send waits, and at the start of each later command of that wallet; never
// between commands, and never once stored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fastScheme } from '../../protocol/signature.ts';
import { hexOf } from '../../protocol/bytes.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import { resolveParams } from '../../sim/params.ts';
import { Prng } from '../../sim/prng.ts';
import { Workload, type TxRecord } from '../../sim/workload.ts';

function setup() {
  let now = 0;
  const submits: string[] = [];
  const timers: { at: number; rec: TxRecord }[] = [];
  const params = resolveParams({}, { accounts: 4, transfers: 10, workload: { resubmitMs: 5_000 } });
  const wl = new Workload(params, 'sim-test', fastScheme, new Prng(1), {
    now: () => now,
    submit: (t: Transfer) => (submits.push(hexOf(transferId(t))), 0),
    resubmitIssue: () => undefined,
    checkLater: (rec, delay) => void timers.push({ at: now + delay, rec }),
  });
  for (const w of wl.wallets) w.spendable = 1_000;
  const advance = (to: number) => {
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      if (timers.length === 0 || timers[0]!.at > to) break;
      const t = timers.shift()!;
      now = t.at;
      wl.check(t.rec);
    }
    now = to;
  };
  return { wl, submits, advance, setNow: (t: number) => (now = t) };
}

/** Arrivals until wallet 0 sends (the PRNG picks senders). */
function sendFrom(wl: Workload, index: number): TxRecord {
  const w = wl.wallets[index]!;
  for (let i = 0; i < 1000 && w.busy === null; i++) wl.arrival();
  return w.busy!;
}

test('a pending transfer goes again while its send waits; after final, only the next command repairs it', () => {
  const { wl, submits, advance, setNow } = setup();
  const rec = sendFrom(wl, 0);
  const w = wl.wallets[rec.from]!;
  const count = () => submits.filter((s) => s === rec.idHex).length;
  assert.is(count(), 1);
  advance(5_000);
  assert.is(count(), 2, 'pending 5 s: resubmitted while the send waits');
  wl.onStatus(rec.idHex, 'final', undefined, 6_000);
  assert.is(w.busy === rec, false, 'the send ended at final');
  advance(60_000);
  assert.is(count(), 2, 'no resubmission between commands: a stranded transfer stays stranded');
  // the wallet's next command (an arrival for it) finishes it
  setNow(61_000);
  w.queue.length = 0;
  (wl as unknown as { command(x: typeof w): void }).command(w);
  assert.is(count(), 3, 'the next command resubmits the final, unstored transfer');
  wl.onStatus(rec.idHex, 'stored', undefined, 61_100);
  setNow(90_000);
  (wl as unknown as { command(x: typeof w): void }).command(w);
  assert.is(count(), 3, 'stored: never again');
  assert.equal(w.open, []);
});

test('a send that timed out stops resubmitting until the wallet\'s next command', () => {
  const { wl, submits, advance, setNow } = setup();
  const rec = sendFrom(wl, 1);
  const w = wl.wallets[rec.from]!;
  const count = () => submits.filter((s) => s === rec.idHex).length;
  advance(200_000);
  const atTimeout = count();
  assert.ok(atTimeout >= 12 && atTimeout <= 13, `resubmitted every 5 s for the 60 s of the send, got ${atTimeout}`);
  advance(400_000);
  assert.is(count(), atTimeout);
  setNow(400_001);
  (wl as unknown as { command(x: typeof w): void }).command(w);
  assert.is(count(), atTimeout + 1, 'a new command takes it up again');
});

test.run();
