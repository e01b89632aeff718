// Scheduled faults of a scenario: partitions, crashes (with restart from the
// durable store, or disk loss) and churn (joins through the mint, departures).
import type { WorldView as World } from './world-view.ts';
import type { Host } from './host.ts';
import { scheduleMembership } from './membership.ts';

export function scheduleFaults(w: World): void {
  const p = w.params;
  const rng = w.rng.fork('faults');
  for (const part of p.network.partitions) {
    w.call(part.at * 1000, () => {
      w.net.partition(w.hosts.length, part.groups);
      w.lastFaultAt = w.sched.time;
    });
    w.call(Math.max(part.heal, part.at) * 1000, () => {
      w.net.heal();
      w.lastFaultAt = w.sched.time;
    });
  }
  for (const c of p.faults.crashes) {
    w.call(c.at * 1000, () => {
      const victims = pickHonestUp(w, c.count, rng.fork(`crash-${c.at}`).int(1 << 30));
      for (const h of victims) w.crash(h, c.diskLoss);
      if (c.restartAfter > 0) w.call((c.at + c.restartAfter) * 1000, () => { for (const h of victims) w.restart(h); });
    });
  }
  scheduleMembership(w);
  const churn = p.faults.churn;
  for (let i = 0; i < churn.joins; i++) w.call((churn.start + i * churn.every) * 1000, () => w.join());
  for (let i = 0; i < churn.leaves; i++) {
    w.call((churn.start + i * churn.every + churn.every / 2) * 1000, () => {
      for (const h of pickHonestUp(w, 1, rng.int(1 << 30))) {
        w.crash(h, false);
        h.left = true;
      }
    });
  }
}

/** `count` distinct honest live nodes, picked from a start point by a seeded stride. */
function pickHonestUp(w: World, count: number, start: number): Host[] {
  const live = w.hosts.filter((h) => h.up && h.honest && !h.left);
  const out: Host[] = [];
  const n = live.length;
  for (let i = 0; i < n && out.length < count; i++) out.push(live[(start + i * 7919) % n]!);
  return [...new Set(out)];
}
