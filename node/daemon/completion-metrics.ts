// Metrics of completion without the gateway (protocol.md §5a): take-overs by the phase
// they start in, the transfers watched, and how watches end. Read from the machine at
// each scrape.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CompletionStats } from '../core/api.ts';

export function registerCompletionMetrics(registry: Registry, stats: () => CompletionStats): void {
  let seen = stats();
  new Counter({
    name: 'ringmint_takeovers_total',
    help: 'transfers this node took over from a gateway that went quiet, by the phase the take-over started in (voting: no certificate at hand; crediting: from the certificate)',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      const now = stats();
      for (const phase of ['voting', 'crediting'] as const) this.inc({ phase }, now.takeovers[phase] - seen.takeovers[phase]);
      seen = { ...seen, takeovers: now.takeovers };
    },
  });
  let ended = stats();
  new Counter({
    name: 'ringmint_takeover_watches_ended_total',
    help: 'watches of locked transfers that ended, by how: done (a gateway said finished), here (this node stored the bundle, finished it, or found it stored), abandoned (left to the wallet after the last take-over), dropped (never started: too many watched)',
    labelNames: ['how'],
    registers: [registry],
    collect() {
      const now = stats();
      this.inc({ how: 'done' }, now.clearedByDone - ended.clearedByDone);
      this.inc({ how: 'here' }, now.clearedHere - ended.clearedHere);
      this.inc({ how: 'abandoned' }, now.abandoned - ended.abandoned);
      this.inc({ how: 'dropped' }, now.dropped - ended.dropped);
      ended = now;
    },
  });
  new Gauge({
    name: 'ringmint_takeover_watches',
    help: 'transfers this node watches now (locks it holds whose gateway has not said finished)',
    registers: [registry],
    collect() {
      this.set(stats().watching);
    },
  });
}
