import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSmall } from './helpers.ts';
import { deterministicPart } from '../../sim/summary.ts';

const over = { transfers: 120, network: { loss: 0.02, duplicate: 0.02, reorder: 0.1, reorderMs: 50 }, adversaries: { doubleSpenders: 3 } };

test('same seed twice: identical summary (minus wall) and timeseries', () => {
  const a = runSmall('baseline', { ...over, seed: 42 });
  const b = runSmall('baseline', { ...over, seed: 42 });
  assert.is(JSON.stringify(deterministicPart(b.summary)), JSON.stringify(deterministicPart(a.summary)));
  assert.is(b.timeseries, a.timeseries);
});

test('another seed: another run', () => {
  const a = runSmall('baseline', { ...over, seed: 42 });
  const c = runSmall('baseline', { ...over, seed: 43 });
  assert.is.not(c.timeseries, a.timeseries);
  assert.is.not(JSON.stringify(deterministicPart(c.summary)), JSON.stringify(deterministicPart(a.summary)));
});

test.run();
