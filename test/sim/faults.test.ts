import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSmall, failures } from './helpers.ts';

const base = { transfers: 120, seed: 5 };
const clean = runSmall('baseline', base);

test('loss drops messages and costs resubmissions or retries', () => {
  const r = runSmall('baseline', { ...base, network: { loss: 0.1 } });
  assert.equal(failures(r), []);
  assert.ok(r.summary.network.dropped > 0);
  assert.ok(r.summary.network.messages > clean.summary.network.messages);
});

test('duplication and reordering happen', () => {
  const r = runSmall('baseline', { ...base, network: { duplicate: 0.1, reorder: 0.2, reorderMs: 100 } });
  assert.equal(failures(r), []);
  assert.ok(r.summary.network.duplicated > 0);
  assert.ok(r.summary.network.reordered > 0);
});

test('latency model changes latency', () => {
  const slow = runSmall('baseline', { ...base, network: { latency: { model: 'constant', ms: 100 } } });
  const fast = runSmall('baseline', { ...base, network: { latency: { model: 'constant', ms: 5 } } });
  assert.ok(slow.summary.latencyMs.final.p50 > fast.summary.latencyMs.final.p50 * 5);
  const regions = runSmall('baseline', { ...base, network: { latency: { model: 'regions', matrix: [[5, 200], [200, 5]], jitter: 0.1 } } });
  const logn = runSmall('baseline', { ...base, network: { latency: { model: 'lognormal', median: 40, sigma: 0.5 } } });
  assert.is.not(regions.summary.latencyMs.final.p50, logn.summary.latencyMs.final.p50);
});

test('a partition delays transfers until it heals', () => {
  const r = runSmall('baseline', { ...base, rate: 20, network: { partitions: [{ at: 4, heal: 9, groups: 2 }] } });
  assert.equal(failures(r), []);
  assert.ok(r.summary.latencyMs.final.max > clean.summary.latencyMs.final.max + 1000, `max ${r.summary.latencyMs.final.max}`);
});

test('crashes take nodes down; restarts answer as before (I5); disk loss is survived', () => {
  const r = runSmall('baseline', { ...base, faults: { crashes: [{ at: 2, count: 3, restartAfter: 3, diskLoss: false }, { at: 4, count: 1, restartAfter: 2, diskLoss: true }] } });
  assert.equal(failures(r), []);
  const up = r.timeseries.split('\n').slice(1, -1).map((l) => Number(l.split(',')[14]));
  assert.ok(Math.min(...up) < 32);
});

test.run();
