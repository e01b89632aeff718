// The process-wide settings of the protocol code, in one explicit configuration.
// They tune caches and allocation only, never an outcome: which signing payloads
// share slabs (protocol/signing.ts), how many recent record encodings are kept
// (storage.ts), and the rings shared by epoch hash (node-context.ts). A daemon
// applies DAEMON_TUNING once at start; the simulator applies SIMULATOR_TUNING at the
// start of every run and resets after it, so one run never inherits another's.
import { usePayloadSlabs } from '../../protocol/signing.ts';
import { clearSharedRings } from './node-context.ts';
import { DAEMON_RECENT_KEEP, keepRecentEncodings, RECENT_KEEP } from './storage.ts';

export type ProcessTuning = {
  /**
   * Signing payloads as views into shared slabs. Off in a daemon: a long-lived lock's
   * payload would pin a slab of short-lived ones. On in the simulator, which keeps
   * nearly every object to the end (fewer allocations, less GC).
   */
  readonly payloadSlabs: boolean;
  /** Recent record encodings kept (storage.ts): the simulator's k replicas write the same bytes. */
  readonly recentEncodings: number;
};

export const DEFAULT_TUNING: ProcessTuning = { payloadSlabs: false, recentEncodings: RECENT_KEEP };
export const DAEMON_TUNING: ProcessTuning = { payloadSlabs: false, recentEncodings: DAEMON_RECENT_KEEP };
export const SIMULATOR_TUNING: ProcessTuning = { payloadSlabs: true, recentEncodings: RECENT_KEEP };

/** Applies `t` and forgets what the caches held under the last one. */
export function applyTuning(t: ProcessTuning): void {
  usePayloadSlabs(t.payloadSlabs);
  keepRecentEncodings(t.recentEncodings);
  clearSharedRings();
}

/** Back to DEFAULT_TUNING, caches emptied (the end of a simulation run, a test). */
export function resetTuning(): void {
  applyTuning(DEFAULT_TUNING);
}
