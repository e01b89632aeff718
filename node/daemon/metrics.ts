// Prometheus metrics of a daemon (node or mint), with unit suffixes. One registry per
// process, so a test can run several daemons in one process without clashes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type DaemonMetrics = ReturnType<typeof createMetrics>;

/**
 * The children of a counter with one label, cached: `inc({type})` hashes its label
 * object on every call, and these run per message and per step (tens of thousands a second).
 */
export function labelled<L extends string>(counter: Counter<L>, label: L): (value: string) => Counter.Internal {
  const children = new Map<string, Counter.Internal>();
  return (value) => {
    let c = children.get(value);
    if (c === undefined) children.set(value, (c = counter.labels({ [label]: value } as Partial<Record<L, string>>)));
    return c;
  };
}

export function createMetrics(role: 'node' | 'mint') {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: 'ringmint_process_' });
  const r = [registry];
  return {
    registry,
    steps: new Counter({ name: 'ringmint_machine_steps_total', help: 'machine steps run, by kind', labelNames: ['kind'], registers: r }),
    stepErrors: new Counter({ name: 'ringmint_machine_step_errors_total', help: 'machine steps that threw (bug; the step is dropped)', registers: r }),
    stepSeconds: new Histogram({ name: 'ringmint_machine_step_seconds', help: 'CPU time of one machine step', buckets: [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05], registers: r }),
    commitSeconds: new Histogram({ name: 'ringmint_store_commit_seconds', help: 'duration of one synced LevelDB batch', buckets: [1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.5], registers: r }),
    commitSteps: new Histogram({ name: 'ringmint_store_batch_steps', help: 'machine steps covered by one synced batch (group commit)', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024], registers: r }),
    commitRecords: new Counter({ name: 'ringmint_store_records_total', help: 'records written', registers: r }),
    messagesOut: new Counter({ name: 'ringmint_messages_sent_total', help: 'protocol messages sent, by type', labelNames: ['type'], registers: r }),
    messagesIn: new Counter({ name: 'ringmint_messages_received_total', help: 'protocol messages received, by type', labelNames: ['type'], registers: r }),
    streamWrites: new Counter({ name: 'ringmint_stream_writes_total', help: 'writes to peer streams (each carries every frame queued for that peer in one turn of the event loop)', registers: r }),
    messagesDropped: new Counter({ name: 'ringmint_messages_dropped_total', help: 'messages dropped, by why', labelNames: ['why'], registers: r }),
    transfers: new Counter({ name: 'ringmint_transfers_total', help: 'transfers reaching a status at this gateway', labelNames: ['status'], registers: r }),
    voteLatency: new Histogram({ name: 'ringmint_vote_latency_seconds', help: 'gateway: submit to certificate', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: r }),
    creditLatency: new Histogram({ name: 'ringmint_credit_latency_seconds', help: 'gateway: submit to q receipts', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: r }),
    alerts: new Counter({ name: 'ringmint_alerts_total', help: 'alerts received', registers: r }),
    notices: new Counter({ name: 'ringmint_notices_sent_total', help: 'double-spend or equivocation notices sent', registers: r }),
    epoch: new Gauge({ name: 'ringmint_epoch', help: 'current epoch number', registers: r }),
    peers: new Gauge({ name: 'ringmint_peers', help: 'open libp2p connections', registers: r }),
    eventLoopLag: new Gauge({ name: 'ringmint_event_loop_lag_seconds', help: 'event loop delay p99 over the last interval', registers: r }),
    httpRequests: new Counter({ name: 'ringmint_http_requests_total', help: 'HTTP requests, by route and status code', labelNames: ['route', 'code'], registers: r }),
  };
}

/** A counter that follows a running total kept elsewhere (read at each scrape). */
export function countFrom(registry: Registry, name: string, help: string, total: () => number): Counter {
  let seen = 0;
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = total();
      this.inc(now - seen);
      seen = now;
    },
  });
}
