// Crashes at step kinds (params.faults.stepCrashes): the nth honest node step of a
// kind (a message type received, 'submit', 'tick', or 'ev:<event type>' for a step
// that emits that event) crashes its node after the step's records are durable, before
// or after its sends leave. This is the daemon's failpoint "after each persisted step
// kind, before each send batch" (durable before sent: the records stay, the sends may not).
import type { Output } from '../protocol/ports.ts';
import type { NodeEvent } from '../node/core/api.ts';
import type { Host } from './host.ts';
import type { WorldView } from './world-view.ts';

type Armed = { readonly atMs: number; readonly on: string; readonly nth: number; readonly beforeSend: boolean; readonly restartAfter: number; readonly diskLoss: boolean; seen: number };

export class StepCrashes {
  private readonly w: WorldView;
  private readonly list: Armed[];
  /** Crashes made, for the summary and tests. */
  readonly made: { at: number; host: number; on: string; beforeSend: boolean }[] = [];

  constructor(w: WorldView) {
    this.w = w;
    this.list = w.params.faults.stepCrashes.map((c) => ({ atMs: c.at * 1000, on: c.on, nth: c.nth, beforeSend: c.beforeSend, restartAfter: c.restartAfter, diskLoss: c.diskLoss, seen: 0 }));
  }

  get armed(): boolean {
    return this.list.length > 0;
  }

  /**
   * Called after a step's records are applied and its events observed. True when the
   * node crashed before its sends left (the caller drops them).
   */
  strike(h: Host, kind: string, out: Output<NodeEvent>): boolean {
    const now = this.w.sched.time;
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i]!;
      if (now < a.atMs || !matches(a.on, kind, out)) continue;
      if (++a.seen !== a.nth) continue;
      this.list.splice(i, 1);
      this.made.push({ at: now, host: h.index, on: a.on, beforeSend: a.beforeSend });
      if (!a.beforeSend) {
        // After the sends: they leave first, then the process dies.
        const sends = out.send.splice(0);
        for (const s of sends) this.w.route(h.index, s.to, s.msg);
      }
      this.w.crash(h, a.diskLoss);
      if (a.restartAfter > 0) this.w.call(now + a.restartAfter * 1000, () => this.w.restart(h));
      return true;
    }
    return false;
  }
}

function matches(on: string, kind: string, out: Output<NodeEvent>): boolean {
  if (!on.startsWith('ev:')) return on === kind;
  const type = on.slice(3);
  for (const e of out.events) if (e.type === type) return true;
  return false;
}
