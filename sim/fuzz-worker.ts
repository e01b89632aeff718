// A fuzz worker thread: runs the seeds and shrinks the main thread sends it.
import { parentPort, workerData } from 'node:worker_threads';
import { runSeed, shrink } from './fuzz-seed.ts';

export type Job = { type: 'run'; seed: number } | { type: 'shrink'; seed: number; invariant: string; maxRuns: number };

const check = (workerData as { check: string[] }).check;
parentPort!.on('message', (job: Job | null) => {
  if (job === null) {
    parentPort!.close();
    return;
  }
  if (job.type === 'run') parentPort!.postMessage({ type: 'run', result: runSeed(job.seed, {}, check) });
  else parentPort!.postMessage({ type: 'shrink', seed: job.seed, invariant: job.invariant, result: shrink(job.seed, job.invariant, job.maxRuns) });
});
