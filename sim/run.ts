// One simulation run, start to end: build the world, run it, check the
// invariants, and return (and optionally write) its outputs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { World, type Machines } from './world.ts';
import { buildSummary, summaryJson, type Summary } from './summary.ts';
import { renderReport } from './report.ts';
import type { SimParams } from './params.ts';
import type { RunResult } from './run-result.ts';

export type { RunResult };
import { tuneGcForSimulation } from './gc-tuning.ts';
import { resetTuning } from '../node/core/process-tuning.ts';
import { checkBounds } from './bounds.ts';


export type RunOptions = {
  machines: Machines;
  /** Called once per virtual second (progress bars). */
  onSecond?: (w: World) => void;
};

export function runSimulation(params: SimParams, opts: RunOptions): RunResult {
  tuneGcForSimulation();
  const t0 = performance.now();
  let peak = process.memoryUsage.rss();
  const w = new World(params, opts.machines);
  w.onSecond = (world) => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    opts.onSecond?.(world);
  };
  try {
    w.run();
    w.checker.finish(w.hosts, w.mint, w.quiet, params.checkSample, w.sched.time);
    w.checker.liveness(w.hosts, w.mint, w.lastFaultAt, params.checks.livenessSeconds * 1000, params.checkSample, w.sched.time);
    const bound = checkBounds(w.hosts, { accounts: w.workload.wallets.length + 1, transfers: w.workload.byId.size, liars: params.adversaries.byzantine }, params.checks.resourceSlack);
    if (bound !== null) w.checker.fail('R1', bound, w.sched.time);
  } finally {
    // The next run (a sweep, a fuzz seed) starts from the default settings and empty caches.
    resetTuning();
  }
  if (w.errorCount > 0) w.checker.fail('I5', `machines threw ${w.errorCount} times; first: ${w.errors[0]?.split('\n')[0]}`, w.sched.time);
  const rss = process.memoryUsage.rss();
  if (rss > peak) peak = rss;
  const summary = buildSummary(w, (performance.now() - t0) / 1000, peak / (1024 * 1024));
  return { summary, timeseries: w.obs.series.csv(), world: w };
}

export function writeOutputs(dir: string, r: RunResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), summaryJson(r.summary));
  writeFileSync(join(dir, 'timeseries.csv'), r.timeseries);
  writeFileSync(join(dir, 'report.html'), renderReport(r));
}
