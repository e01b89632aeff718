// Tallied metrics: plain numbers on the hot path, scraped in exactly prom-client's format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Counter, Histogram, Registry } from 'prom-client';
import { TalliedCounter, TalliedHistogram } from '../../runtime/metrics.ts';

const BUCKETS = [1e-5, 1e-4, 1e-3, 0.01];
const VALUES = [0, 5e-6, 1e-5, 2e-5, 1e-4, 5e-4, 0.003, 0.2, 0.01];

test('a tallied histogram scrapes as prom-client histogram with the same observations would', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  ours.setDefaultLabels({ role: 'node' });
  theirs.setDefaultLabels({ role: 'node' });
  const h = new TalliedHistogram(ours, 'x_seconds', 'help text', BUCKETS);
  const p = new Histogram({ name: 'x_seconds', help: 'help text', buckets: BUCKETS, registers: [theirs] });
  for (const v of VALUES) {
    h.observe(v);
    p.observe(v);
  }
  assert.is(await ours.metrics(), await theirs.metrics());
  assert.match(await ours.metrics(), 'x_seconds_bucket{le="0.001",role="node"} 6');
  assert.match(await ours.metrics(), 'x_seconds_count{role="node"} 9');
});

test('a tallied counter scrapes its running tallies, by label, as a counter', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const c = new TalliedCounter(ours, 'm_total', 'messages', 'type');
  const p = new Counter({ name: 'm_total', help: 'messages', labelNames: ['type'], registers: [theirs] });
  const vote = c.of('vote');
  vote.n++;
  vote.n++;
  c.inc('store', 3);
  p.inc({ type: 'vote' }, 2);
  p.inc({ type: 'store' }, 3);
  assert.is(await ours.metrics(), await theirs.metrics());
  // Scraping twice counts nothing twice.
  vote.n++;
  p.inc({ type: 'vote' });
  await ours.metrics();
  assert.is(await ours.metrics(), await theirs.metrics());
  assert.match(await ours.metrics(), 'm_total{type="vote"} 3');
});

test.run();
