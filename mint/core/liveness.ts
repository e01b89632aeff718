// Failure detection (protocol.md §7, Failure detection): every member sends the mint a signed
// reachability report now and then; a member that has sent none for evictAfterMs, and
// that at least minReporters other members report unreachable within that time, is
// evicted at the next epoch, at most maxEvictionsPerEpoch at once so each custody group
// keeps enough old custodians to hand its accounts on. Soft state: a restarted mint
// gives every member a fresh evictAfterMs before judging it.
import { hexOf, type Bytes } from '../../protocol/bytes.ts';

/** Reporters remembered per member reported unreachable (bounds memory under a flood of reports). */
export const MAX_REPORTERS_PER_MEMBER = 16;
/** One report per reporter per this long is judged; the rest are dropped unread. */
export const MIN_REPORT_INTERVAL_MS = 1_000;
/** A member not heard from at all since the mint started is given this many windows. */
export const STARTUP_GRACE = 3;

export type LivenessOptions = {
  /** Infinity: never evict for silence. */
  readonly evictAfterMs: number;
  readonly minReporters: number;
  readonly maxEvictionsPerEpoch: number;
};

export class Liveness {
  private readonly opts: LivenessOptions;
  /** Members only: when each was last heard from (or when it became subject to judgement). */
  private readonly lastHeard = new Map<string, number>();
  /** Members not heard from since this mint started: judged with STARTUP_GRACE times the window. */
  private readonly neverHeard = new Set<string>();
  private started = false;
  /** Members reported unreachable: by whom, when. */
  private readonly reportedBy = new Map<string, Map<string, number>>();

  constructor(opts: LivenessOptions) {
    this.opts = opts;
  }

  get enabled(): boolean {
    return Number.isFinite(this.opts.evictAfterMs);
  }

  /** Whether a report from `reporter` (a member) is worth a signature check now. */
  wants(reporter: string, now: number): boolean {
    const last = this.lastHeard.get(reporter);
    return last === undefined || now - last >= MIN_REPORT_INTERVAL_MS;
  }

  /** A verified report from a member. */
  onReport(reporter: string, unreachable: readonly Bytes[], now: number, isMember: (hex: string) => boolean): void {
    this.lastHeard.set(reporter, now);
    this.neverHeard.delete(reporter);
    for (const u of unreachable) {
      const hex = hexOf(u);
      if (hex === reporter || !isMember(hex)) continue;
      let by = this.reportedBy.get(hex);
      if (by === undefined) this.reportedBy.set(hex, (by = new Map()));
      if (!by.has(reporter) && by.size >= MAX_REPORTERS_PER_MEMBER) by.delete(by.keys().next().value!);
      by.set(reporter, now);
    }
  }

  /** A new epoch (or the first tick): forget non-members; new members start their clock now. */
  onMembers(members: readonly string[], now: number): void {
    const set = new Set(members);
    for (const m of this.lastHeard.keys()) if (!set.has(m)) this.lastHeard.delete(m);
    for (const m of this.reportedBy.keys()) if (!set.has(m)) this.reportedBy.delete(m);
    for (const m of this.neverHeard) if (!set.has(m)) this.neverHeard.delete(m);
    for (const m of members) {
      if (this.lastHeard.has(m)) continue;
      this.lastHeard.set(m, now);
      // The members at this mint's start: a ring starting together is not thinned by its slowest starters.
      if (!this.started) this.neverHeard.add(m);
    }
    this.started = true;
  }

  /** Members silent past evictAfterMs and reported unreachable by enough others, at most the cap, oldest silence first. */
  dead(members: readonly string[], now: number): string[] {
    if (!this.enabled) return [];
    const since = now - this.opts.evictAfterMs;
    const out: { m: string; last: number }[] = [];
    for (const m of members) {
      const last = this.lastHeard.get(m) ?? now;
      if (last > since) continue;
      if (this.neverHeard.has(m) && last > now - STARTUP_GRACE * this.opts.evictAfterMs) continue;
      let reporters = 0;
      for (const t of this.reportedBy.get(m)?.values() ?? []) if (t > since) reporters++;
      if (reporters >= this.opts.minReporters) out.push({ m, last });
    }
    out.sort((a, b) => a.last - b.last || (a.m < b.m ? -1 : 1));
    return out.slice(0, this.opts.maxEvictionsPerEpoch).map((x) => x.m);
  }

  /** For GET /status: when each member was last heard from. */
  heard(): ReadonlyMap<string, number> {
    return this.lastHeard;
  }
}
