// A progress bar on stderr for long runs: only on a TTY (never with --json).
import cliProgress from 'cli-progress';
import type { SimParams } from './params.ts';
import type { World } from './world.ts';

export function startProgress(p: SimParams): { update: (w: World) => void; stop: () => void } | null {
  if (!process.stderr.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'sim {bar} {value}/{total} transfers | {state} | {vsec} virtual s | {events} events', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(p.transfers, 1), 0, { state: 'funding', vsec: 0, events: 0 });
  return {
    update: (w) => bar.update(w.workload.terminal, { state: w.state, vsec: Math.round(w.sched.time / 1000), events: w.sched.executed }),
    stop: () => bar.stop(),
  };
}
