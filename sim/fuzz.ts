// `ringmint sim fuzz`: many seeds of random worlds (fuzz-world.ts), each run on the
// real machines and judged by the checkers; on J worker threads. The first failure of
// each invariant is shrunk (fuzz-seed.ts) and its smallest replay reported.
import { Worker } from 'node:worker_threads';
import { runSeed, shrink, replayCommand, type SeedResult, type ShrinkResult } from './fuzz-seed.ts';
import type { Job } from './fuzz-worker.ts';

export type FuzzOptions = {
  /** Seeds to run (ignored when minutes is set). */
  seeds: number;
  /** Run new seeds until this many minutes have passed (0: run `seeds`). */
  minutes: number;
  /** First seed; seeds are from, from + 1, ... */
  from: number;
  jobs: number;
  /** Invariants that count as failures. */
  check: readonly string[];
  /** Shrink the first failing seed of each invariant, with at most this many runs (0: no shrinking). */
  shrinkRuns: number;
  onResult?: (r: SeedResult, done: number) => void;
  onShrunk?: (seed: number, invariant: string, s: ShrinkResult) => void;
};

export type Failing = { seed: number; invariant: string; detail: string; replay: string; smallest?: string };

export type FuzzReport = {
  seeds: number;
  failures: number;
  failuresByInvariant: Record<string, number>;
  events: number;
  seedsPerMinute: number;
  failing: Failing[];
};

/** Failing entries kept in the report (the counts cover all). */
const MAX_FAILING = 200;

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const deadline = o.minutes > 0 ? t0 + o.minutes * 60_000 : Infinity;
  const report: FuzzReport = { seeds: 0, failures: 0, failuresByInvariant: {}, events: 0, seedsPerMinute: 0, failing: [] };
  const shrunk = new Set<string>();
  const pending: Job[] = [];
  let next = o.from;
  const last = o.minutes > 0 ? Infinity : o.from + o.seeds;
  const nextJob = (): Job | null => {
    const s = pending.shift();
    if (s) return s;
    if (next >= last || performance.now() >= deadline) return null;
    return { type: 'run', seed: next++ };
  };
  const onRun = (r: SeedResult): void => {
    report.seeds++;
    report.events += r.events;
    if (r.failures.length > 0) report.failures++;
    for (const f of r.failures) {
      report.failuresByInvariant[f.invariant] = (report.failuresByInvariant[f.invariant] ?? 0) + 1;
      if (report.failing.length < MAX_FAILING) report.failing.push({ seed: r.seed, invariant: f.invariant, detail: f.detail, replay: replayCommand(r.seed) });
      if (o.shrinkRuns > 0 && f.invariant !== 'error' && !shrunk.has(f.invariant)) {
        shrunk.add(f.invariant);
        pending.push({ type: 'shrink', seed: r.seed, invariant: f.invariant, maxRuns: o.shrinkRuns });
      }
    }
    o.onResult?.(r, report.seeds);
  };
  const onShrink = (seed: number, invariant: string, s: ShrinkResult): void => {
    const f = report.failing.find((x) => x.seed === seed && x.invariant === invariant);
    if (f) f.smallest = replayCommand(seed, s.over);
    o.onShrunk?.(seed, invariant, s);
  };

  if (o.jobs <= 1) {
    for (let job = nextJob(); job !== null; job = nextJob()) {
      if (job.type === 'run') onRun(runSeed(job.seed, {}, o.check));
      else onShrink(job.seed, job.invariant, shrink(job.seed, job.invariant, job.maxRuns));
      // Let the progress bar's timer and signals in between seeds.
      await new Promise((r) => setImmediate(r));
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      const idle: Worker[] = [];
      const all: Worker[] = [];
      let busy = 0;
      let live = o.jobs;
      // Hands jobs to idle workers; when none is left and none is running, they stop.
      const feed = (): void => {
        while (idle.length > 0) {
          const job = nextJob();
          if (job === null) break;
          busy++;
          idle.pop()!.postMessage(job);
        }
        if (busy === 0) for (const w of all) w.postMessage(null);
      };
      for (let i = 0; i < o.jobs; i++) {
        const w = new Worker(new URL('./fuzz-worker.ts', import.meta.url), { workerData: { check: o.check } });
        all.push(w);
        idle.push(w);
        w.on('message', (m: { type: 'run'; result: SeedResult } | { type: 'shrink'; seed: number; invariant: string; result: ShrinkResult }) => {
          busy--;
          if (m.type === 'run') onRun(m.result);
          else onShrink(m.seed, m.invariant, m.result);
          idle.push(w);
          feed();
        });
        w.on('error', reject);
        w.on('exit', () => {
          if (--live === 0) resolve();
        });
      }
      feed();
    });
  }
  const minutes = (performance.now() - t0) / 60_000;
  report.seedsPerMinute = Math.round((report.seeds / Math.max(minutes, 1e-9)) * 10) / 10;
  return report;
}
