// The benchmark's reading of /metrics: series summed by one label, across daemons.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { growth, sumSeries } from '../../bench/scrape.ts';
import { TalliedCounter } from '../../runtime/metrics.ts';

/** One daemon's exposition, as prom-client writes it. */
async function daemon(seconds: Record<string, number>): Promise<string> {
  const r = new Registry();
  r.setDefaultLabels({ role: 'node' });
  const c = new TalliedCounter(r, 'ringmint_machine_step_seconds_total', 'wall time', 'kind');
  for (const [k, v] of Object.entries(seconds)) c.inc(k, v);
  // a metric whose name starts the same, and a label whose name ends the same, must not count
  new TalliedCounter(r, 'ringmint_machine_step_seconds_total_other', 'x', 'kind').inc('vote', 100);
  return (await r.metrics()) + 'ringmint_machine_step_seconds_total{subkind="vote",role="node"} 100\n';
}

test('sums one metric by label over several daemons, and what grew', async () => {
  const into = new Map<string, number>();
  sumSeries(await daemon({ vote: 0.5, digest: 0.25 }), 'ringmint_machine_step_seconds_total', 'kind', into);
  assert.equal([...into], [['vote', 0.5], ['digest', 0.25]]);
  sumSeries(await daemon({ vote: 1, tick: 0.125 }), 'ringmint_machine_step_seconds_total', 'kind', into);
  assert.equal(Object.fromEntries(into), { vote: 1.5, digest: 0.25, tick: 0.125 });
  assert.equal(Object.fromEntries(growth(new Map([['vote', 1]]), into)), { vote: 0.5, digest: 0.25, tick: 0.125 });
});

test.run();
