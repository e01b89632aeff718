// The course of a run: funding (the mint's issuances down the funding tree), the
// transfer window, the drain, and the settling run before the end-state checks; and
// the per-second gauges that watch it. The world moves messages; this decides when
// the run moves on to its next phase and when it ends.
import { ARRIVAL, FUND, SECOND } from './event-kinds.ts';
import type { MintEvent, MintMachineApi } from '../mint/core/api.ts';
import type { Output } from '../protocol/ports.ts';
import type { TxRecord, Workload } from './workload.ts';
import type { RunState } from './world-view.ts';
import type { SimParams } from './params.ts';
import type { Scheduler } from './scheduler.ts';
import type { Network } from './network.ts';
import type { Observations } from './observations.ts';

/** What the course needs of the world (world.ts implements it; no import back). */
export interface CourseWorld {
  readonly params: SimParams;
  readonly sched: Scheduler;
  readonly workload: Workload;
  readonly mint: MintMachineApi;
  readonly net: Network;
  readonly obs: Observations;
  readonly adversaries: { readonly idle: boolean; onTransfersBegin(): void };
  /** Hosts up now. */
  readonly nodesUp: number;
  step<E>(f: () => Output<E>): Output<E>;
  processMint(out: Output<MintEvent>): void;
  /** Once a virtual second, after the gauges: the run's observer (progress bars). */
  secondPassed(): void;
}

export class Course {
  state: RunState = 'funding';
  /** Virtual ms when every account was funded (-1: not yet). */
  fundedAt = -1;
  lastArrivalAt = 0;
  /** The workload went quiet (nothing in flight, nothing queued, no partition) before the drain time ran out. */
  quiet = false;
  /** End of the settling run after the workload went quiet (anti-entropy time). */
  settleUntil = 0;
  private issuedCount = 0;
  private readonly w: CourseWorld;

  constructor(w: CourseWorld) {
    this.w = w;
  }

  /** Issues the next root account's funds (see Workload.roots). */
  fundOne(): void {
    const w = this.w;
    if (this.issuedCount >= w.workload.roots) return;
    const i = this.issuedCount++;
    const wallet = w.workload.wallets[i]!;
    const r = w.step((): Output<MintEvent> => {
      const { transfer, output } = w.mint.issue(wallet.id, w.workload.rootAmount(i));
      w.workload.trackIssue(transfer, i);
      return output;
    });
    w.processMint(r);
  }

  /** A funding transfer's status moved: the mint's next issuance follows a locked one; transfers begin once every account is credited. */
  onFundingStatus(rec: TxRecord, now: number): void {
    // The mint's chain: the next issuance follows once this one is locked by q custodians.
    if (rec.kind === 'issue' && rec.finalAt === now) this.w.sched.after(0, FUND, 0, 0, null);
    if ((rec.status === 'credited' || rec.status === 'stored') && this.state === 'funding' && this.w.workload.funded >= this.w.params.accounts) this.beginTransfers();
  }

  private beginTransfers(): void {
    const w = this.w;
    if (this.state !== 'funding') return;
    this.state = 'transfers';
    this.fundedAt = w.sched.time;
    if (w.params.transfers > 0) w.sched.after(w.workload.nextIntervalMs, ARRIVAL, 0, 0, null);
    else this.state = 'draining';
    w.adversaries.onTransfersBegin();
  }

  /** One transfer intent arrives; after the last one the run drains. */
  arrival(): void {
    const w = this.w;
    w.workload.arrival();
    this.lastArrivalAt = w.sched.time;
    if (w.workload.arrivals < w.params.transfers) w.sched.after(w.workload.nextIntervalMs, ARRIVAL, 0, 0, null);
    else this.state = 'draining';
  }

  /** Once a virtual second: the gauges, and whether the run moves on or ends. */
  second(): void {
    const w = this.w;
    const s = w.sched;
    const sec = Math.floor(s.time / 1000) - 1;
    w.obs.series.set('nodesUp', sec, w.nodesUp);
    w.obs.series.set('inFlight', sec, w.workload.inFlight);
    w.obs.series.set('events', sec, s.executed);
    const p = w.params;
    const wl = w.workload;
    // Funding gives up waiting after the time it should take plus the drain time.
    if (this.state === 'funding' && s.time > p.workload.fundingTimeoutSeconds * 1000) this.beginTransfers();
    if (this.state === 'draining') {
      let queued = 0;
      for (const x of wl.wallets) queued += x.queue.length + (x.dsPending ? 1 : 0);
      const quiet = wl.inFlight === 0 && queued === 0 && !w.net.partitioned && w.adversaries.idle;
      if (quiet && !this.quiet) {
        this.quiet = true;
        this.settleUntil = s.time + p.settleSeconds * 1000;
      }
      if (this.quiet && s.time >= this.settleUntil) this.state = 'done';
      if (!this.quiet && s.time - this.lastArrivalAt > p.drainSeconds * 1000) this.state = 'done';
    }
    w.secondPassed();
    if (this.state !== 'done') s.after(1000, SECOND, 0, 0, null);
  }
}
