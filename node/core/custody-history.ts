// What a custodian keeps of its accounts' history: the locks by seq and the credits in
// the order applied. Without a records reader (the simulator) all of it stays in
// memory. With one (every daemon: NodeInit.records) only windows of the newest, for
// the accounts used last, and a filter of the credits applied stay; the rest is read
// back from the records when a re-vote, a merge, a handoff or the API asks for it.
import { equal, fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import { decodeWith, readTransfer, transferId, type Transfer } from '../../protocol/objects.ts';
import { MAX_CREDITS_PER_STATE, MAX_RECENT_LOCKS } from '../../protocol/handoff-codec.ts';
import { IdFilter } from './id-filter.ts';
import { creditAmount, Keys } from './record-keys.ts';
import type { NodeContext } from './node-context.ts';
import type { Account } from './account.ts';

/**
 * Locks an account keeps in memory when older ones can be read back (a node with a
 * reader): the head and the MAX_RECENT_LOCKS below it, which every account state
 * sent (handoff, anti-entropy) carries. The window grows to twice this before it is
 * cut back, so cutting costs O(1) per lock.
 */
const LOCK_WINDOW = MAX_RECENT_LOCKS + 1;
/** Credits an account keeps in memory, likewise: anti-entropy sends the newest page of MAX_CREDITS_PER_STATE. */
const CREDIT_WINDOW = MAX_CREDITS_PER_STATE;
/**
 * Accounts whose windows stay in memory (a node with a reader): the most recently
 * locked or credited. Any other keeps its totals, head and certificate, and reads
 * the rest back; without this cut, a node whose accounts each moved a few times
 * would still hold every lock and credit. At most ~256 × 550 KB of windows, and far
 * less unless every one of these accounts is busy.
 */
const MAX_WINDOWED_ACCOUNTS = 256;

export class CustodyHistory {
  /**
   * Credits applied: transfer id hex -> amount (exactly-once by id, protocol.md §5 step 4). With a
   * reader only those in their account's window; older ones are `c/` records.
   */
  readonly credits = new Map<string, { readonly to: string; readonly amount: bigint }>();
  /** With a reader: every credit applied here, so a new one is known new without a store read. */
  private readonly applied = new IdFilter();
  /** With a reader: accounts with windows in memory (MAX_WINDOWED_ACCOUNTS), least recently used first. */
  private readonly windowed = new Map<Account, true>();
  private readonly ctx: NodeContext;

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
  }

  /** The lock of `a` at `seq`: from memory, or below the window from its record. */
  lockAt(a: Account, hex: string, seq: number): Transfer | undefined {
    if (seq >= a.lockBase) return a.locks[seq - a.lockBase];
    const v = this.ctx.read(Keys.lock(hex, seq));
    return v === undefined ? undefined : decodeWith(this.ctx.network, v, readTransfer);
  }

  /** Keeps `t` as the lock at its seq (the caller writes its record); with a reader the window is cut back to LOCK_WINDOW. */
  setLock(a: Account, t: Transfer): void {
    const i = t.seq - a.lockBase;
    if (i < 0) return; // below the window: its record holds it
    a.locks[i] = t;
    if (this.ctx.reader === null) return;
    this.touch(a);
    if (a.locks.length > 2 * LOCK_WINDOW) {
      const drop = a.locks.length - LOCK_WINDOW;
      a.locks = a.locks.slice(drop);
      a.lockBase += drop;
    }
  }

  /** With a reader: `a` is the most recently used windowed account; the least recent past the limit leaves its windows to the records. */
  private touch(a: Account): void {
    const w = this.windowed;
    if (w.delete(a)) {
      w.set(a, true);
      return;
    }
    w.set(a, true);
    if (w.size <= MAX_WINDOWED_ACCOUNTS) return;
    const cold = w.keys().next().value!;
    w.delete(cold);
    // Its lock at the head's seq stays (the window's authority there, with no read);
    // everything below is read back when asked.
    const top = cold.seq >= cold.lockBase ? cold.locks[cold.seq - cold.lockBase] : undefined;
    cold.lockBase = cold.seq;
    cold.locks = top !== undefined ? [top] : [];
    for (const idHex of cold.credits) this.credits.delete(idHex);
    cold.creditBase += cold.credits.length;
    cold.credits = [];
  }

  /** Whether the credit of transfer `id` was applied here (with a reader: memory, then the filter, then the store). */
  hasCredit(idHex: string, id: Bytes): boolean {
    if (this.credits.has(idHex)) return true;
    return this.ctx.reader !== null && this.applied.mayHave(id) && this.ctx.read(Keys.credit(idHex)) !== undefined;
  }

  /** Credits applied to the account so far. */
  creditCount(a: Account): number {
    return a.creditBase + a.credits.length;
  }

  /** The n-th credit applied to the account (application order), from memory or below the window from the records. */
  creditAt(a: Account, hex: string, n: number): { readonly idHex: string; readonly amount: bigint } | undefined {
    if (n >= a.creditBase) {
      const idHex = a.credits[n - a.creditBase];
      return idHex === undefined ? undefined : { idHex, amount: this.credits.get(idHex)!.amount };
    }
    const v = this.ctx.read(Keys.creditOrder(hex, n));
    return v === undefined ? undefined : { idHex: toHex(v.subarray(0, 32)), amount: creditAmount(v) };
  }

  /** With a reader, cuts the account's credits in memory back to CREDIT_WINDOW once past twice that. */
  private trimCredits(a: Account): void {
    if (this.ctx.reader === null || a.credits.length <= 2 * CREDIT_WINDOW) return;
    const drop = a.credits.length - CREDIT_WINDOW;
    for (let i = 0; i < drop; i++) this.credits.delete(a.credits[i]!);
    a.credits = a.credits.slice(drop);
    a.creditBase += drop;
  }

  /** Whether the lock of `a` at `seq` is the transfer `id`. */
  holds(a: Account, hex: string, seq: number, id: Bytes): boolean {
    const locked = this.lockAt(a, hex, seq);
    return locked !== undefined && equal(transferId(locked), id);
  }

  /** Records a credit known not to be applied yet: the id, and the account's next one in order (returned: its index). */
  add(a: Account, idHex: string, toHex_: string, amount: bigint, id: Bytes | undefined): number {
    if (this.ctx.reader !== null) this.applied.add(id ?? fromHex(idHex));
    this.credits.set(idHex, { to: toHex_, amount });
    const n = this.creditCount(a);
    a.credits.push(idHex);
    if (this.ctx.reader !== null) {
      this.touch(a);
      this.trimCredits(a);
    }
    return n;
  }

  /** With a reader, a `c/` record at restart: its id into the filter (restoreCreditOrder brings the window back). */
  restoredCredit(idHex: string): void {
    this.applied.add(fromHex(idHex));
  }

  /**
   * With a reader, after the `c/` records: one account's `k/` records, `count` of them,
   * of which `newest` are the last (at least CREDIT_WINDOW of them when there are as
   * many), so its newest credits come back into memory.
   */
  restoreCreditOrder(a: Account, hex: string, count: number, newest: readonly Bytes[]): void {
    const kept = newest.slice(-CREDIT_WINDOW);
    a.creditBase = count - kept.length;
    a.credits = [];
    for (const v of kept) {
      const idHex = toHex(v.subarray(0, 32));
      this.credits.set(idHex, { to: hex, amount: creditAmount(v) });
      a.credits.push(idHex);
    }
    this.touch(a);
  }
}
