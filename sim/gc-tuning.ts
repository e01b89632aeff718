// V8 garbage-collector settings for a simulation process. A run keeps nearly every
// object it makes to its end (a 100,000-node, 1,000,000-transfer run holds ~10 GB),
// so collector heuristics made for short-lived garbage cost it most of its time.
import { setFlagsFromString } from 'node:v8';

let tuned = false;

/**
 * Off-heap bytes (the ArrayBuffers behind payload slabs and hashes) count toward the
 * heap's own growth limit instead of their own: by default every ~64 MB of new
 * ArrayBuffer memory starts a full mark of the whole heap ("external memory
 * pressure"), which in a multi-GB run marked gigabytes of live objects every few
 * seconds of wall time. Only the GC's schedule changes, never what a run computes.
 */
export function tuneGcForSimulation(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
