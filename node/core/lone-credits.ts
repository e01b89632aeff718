// Credits that one reporter alone lists in a pool (protocol.md §7 merge: a credit is
// applied once f + 1 reporters list it). Until a second reporter names it, only the
// first one's word holds it here, and a lying co-custodian can name credits without
// end: page after page of one account, or of many. So each reporter gets a budget of
// such credits at this node, over every pool; past it, its oldest lone credits are
// forgotten. An honest reporter's come again with its next state (anti-entropy rounds,
// pull retries); a liar's cost it its own budget, never another reporter's.
import type { Pool } from './handoff-pool.ts';

/** Lone credits one reporter may have held here at once, over every pool (more than a long history's few pages). */
export const MAX_LONE_CREDITS_PER_REPORTER = 1 << 12;

export class LoneCredits {
  /**
   * Reporter hex -> its lone credits, oldest first: `${pool id}:${credit key}` -> pool.
   * Reporters are custodians of the current or previous ring (handoff.ts checks who
   * may report), so this map is bounded by the ring; each inner one by the budget.
   */
  private readonly byReporter = new Map<string, Map<string, Pool>>();
  private readonly budget: number;

  constructor(budget = MAX_LONE_CREDITS_PER_REPORTER) {
    this.budget = budget;
  }

  /** `sender` was just added to the reporters (`from`) of credit `key` in `pool`, which it did not settle. */
  listed(pool: Pool, key: string, from: ReadonlySet<string>, sender: string): void {
    if (from.size === 1) this.add(sender, pool, key);
    else if (from.size === 2) for (const r of from) if (r !== sender) this.remove(r, pool, key);
  }

  /** The credit left the pool (applied): it is nobody's lone credit any more. */
  settled(pool: Pool, key: string, from: ReadonlySet<string>): void {
    if (from.size <= 2) for (const r of from) this.remove(r, pool, key);
  }

  /** A pool is dropped or replaced: its lone credits stop counting against their reporters. */
  dropped(pool: Pool): void {
    for (const [key, from] of pool.credits) if (from.size === 1) for (const r of from) this.remove(r, pool, key);
  }

  /** Lone credits held for `reporter` now (tests). */
  heldFor(reporter: string): number {
    return this.byReporter.get(reporter)?.size ?? 0;
  }

  private add(reporter: string, pool: Pool, key: string): void {
    let mine = this.byReporter.get(reporter);
    if (mine === undefined) this.byReporter.set(reporter, (mine = new Map()));
    mine.set(`${pool.id}:${key}`, pool);
    while (mine.size > this.budget) {
      const [oldest, p] = mine.entries().next().value!;
      mine.delete(oldest);
      const k = oldest.slice(oldest.indexOf(':') + 1);
      const from = p.credits.get(k);
      if (from !== undefined && from.size === 1 && from.has(reporter)) p.credits.delete(k);
    }
  }

  private remove(reporter: string, pool: Pool, key: string): void {
    const mine = this.byReporter.get(reporter);
    if (mine === undefined) return;
    mine.delete(`${pool.id}:${key}`);
    if (mine.size === 0) this.byReporter.delete(reporter);
  }
}
