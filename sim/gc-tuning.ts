// V8 garbage-collector settings for a simulation process. A run keeps nearly every
// object it makes to its end (a 100,000-node, 1,000,000-transfer run holds ~10 GB),
// so collector heuristics made for short-lived garbage cost it most of its time.
// Only the GC's schedule changes, never what a run computes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants, totalmem } from 'node:os';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import type { SimParams } from './params.ts';

let tuned = false;

/**
 * Off-heap bytes (the ArrayBuffers behind payload slabs and hashes) count toward the
 * heap's own growth limit instead of their own: by default ArrayBuffer memory
 * growing past a limit set at the previous full GC starts another full mark of the
 * whole heap ("external memory pressure"), which in a multi-GB run marked gigabytes
 * of live objects every few seconds of wall time.
 */
export function tuneGcForSimulation(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}

/** Smaller runs are not re-executed: the child's start (~0.1 s) would weigh more than its gain. */
const LARGE_RUN_OBJECTS = 100_000;
/** Share of the heap limit the old generation may reach before its first full GC, and a cap (at 6 GB the 100,000-node, 1,000,000-transfer run peaked at 13.5 GB RSS). */
const INITIAL_OLD_SHARE = 0.5;
const INITIAL_OLD_MAX_MB = 6144;
/**
 * The child's heap limit: half the machine's memory, at most 16 GB, never below V8's
 * default. V8's default (about 4 GB on a 24 GB machine) left a 10,000-node,
 * 200,000-transfer run (~4 GB live at its end) marking its whole heap again and
 * again near the limit: a quarter of its CPU was the collector.
 */
const HEAP_SHARE_OF_MEMORY = 0.5;
const HEAP_MAX_MB = 16384;
const CHILD_ENV = 'RINGMINT_SIM_TUNED';

/**
 * For a large run, starts this same command again in a child process whose heap
 * limit is set by the machine's memory (--max-old-space-size) and whose old
 * generation starts large (--initial-old-space-size; V8 reads both only at start):
 * the heap then grows to half its limit (at most 6 GB) before the first full
 * mark-compact. Every full GC marks all live objects, ~3 s per GB here, and the
 * default schedule ran one at each ~1.5x growth of the heap; in a run that only
 * grows, those marks find little garbage. Returns the child's exit status, or
 * null when this process should run the simulation itself (small run, already
 * the child, or the flag was given).
 */
export async function reexecForLargeRun(p: SimParams): Promise<number | null> {
  if (process.env[CHILD_ENV] !== undefined) return null;
  if (process.execArgv.some((a) => a.startsWith('--initial-old-space-size'))) return null;
  if (p.nodes + p.accounts + p.transfers < LARGE_RUN_OBJECTS) return null;
  const defaultMb = getHeapStatistics().heap_size_limit / (1024 * 1024);
  const own = process.execArgv.some((a) => a.startsWith('--max-old-space-size'));
  const limitMb = own ? defaultMb : Math.floor(Math.max(defaultMb, Math.min((totalmem() / (1024 * 1024)) * HEAP_SHARE_OF_MEMORY, HEAP_MAX_MB)));
  const initialMb = Math.floor(Math.min(limitMb * INITIAL_OLD_SHARE, INITIAL_OLD_MAX_MB));
  const heapFlags = [...(own ? [] : [`--max-old-space-size=${limitMb}`]), `--initial-old-space-size=${initialMb}`];
  const child = spawn(process.execPath, [...process.execArgv, ...heapFlags, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [CHILD_ENV]: String(initialMb) },
  });
  // A signal sent to this process alone (kill PID, a supervisor) must stop the run too.
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, forward);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? 128 + (signal ? constants.signals[signal] : 0);
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}
