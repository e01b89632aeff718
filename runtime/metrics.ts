// Prometheus metrics of a daemon (node or mint), with unit suffixes. One registry per
// process, so a test can run several daemons in one process without clashes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type DaemonMetrics = ReturnType<typeof createMetrics>;

/**
 * A counter with one label whose per-value tallies are plain numbers, handed to
 * prom-client at each scrape: these run per message and per step (tens of thousands
 * a second), and prom-client's own inc() (label hashing, validation) was ~1 % of a
 * node's CPU.
 */
export class TalliedCounter {
  private readonly tallies = new Map<string, { n: number; seen: number }>();
  private readonly counter: Counter<string>;

  constructor(registry: Registry, name: string, help: string, label: string) {
    const tallies = this.tallies;
    this.counter = new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        for (const [value, t] of tallies) {
          if (t.n === t.seen) continue;
          this.labels({ [label]: value }).inc(t.n - t.seen);
          t.seen = t.n;
        }
      },
    });
  }

  of(value: string): { n: number } {
    let t = this.tallies.get(value);
    if (t === undefined) this.tallies.set(value, (t = { n: 0, seen: 0 }));
    return t;
  }

  inc(value: string, by = 1): void {
    this.of(value).n += by;
  }
}

/**
 * A Prometheus histogram kept as plain bucket counts, formatted at each scrape in
 * prom-client's shape (registered with the registry as a metric of its own): observed
 * once per machine step, where prom-client's observe() was ~2 % of a node's CPU.
 */
export class TalliedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(registry: Registry, name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = [...buckets].sort((a, b) => a - b);
    this.counts = new Float64Array(this.bounds.length + 1);
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  async get() {
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = this.bounds.map((le, i) => ({ labels: { le }, value: (acc += this.counts[i]!), metricName: bucket }));
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: bucket });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = this.count = 0;
  }
}

export function createMetrics(role: 'node' | 'mint') {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: 'ringmint_process_' });
  const r = [registry];
  return {
    registry,
    steps: new TalliedCounter(registry, 'ringmint_machine_steps_total', 'machine steps run, by kind (the message type received, submit, tick)', 'kind'),
    stepErrors: new Counter({ name: 'ringmint_machine_step_errors_total', help: 'machine steps that threw (bug; the step is dropped)', registers: r }),
    stepSeconds: new TalliedHistogram(registry, 'ringmint_machine_step_seconds', 'wall time of one machine step (on a busy shared core it includes time the process waited for the CPU)', [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05]),
    // Where the machine's time goes, by what each step handled (a message type, submit, tick):
    // anti-entropy's share (digest, account-state, account-pull) is the one operators tune.
    stepSecondsByKind: new TalliedCounter(registry, 'ringmint_machine_step_seconds_total', 'wall time spent in machine steps, by kind', 'kind'),
    commitSeconds: new Histogram({ name: 'ringmint_store_commit_seconds', help: 'duration of one synced LevelDB batch', buckets: [1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.5], registers: r }),
    commitSteps: new Histogram({ name: 'ringmint_store_batch_steps', help: 'machine steps covered by one synced batch (group commit)', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024], registers: r }),
    commitRecords: new Counter({ name: 'ringmint_store_records_total', help: 'records written', registers: r }),
    messagesOut: new TalliedCounter(registry, 'ringmint_messages_sent_total', 'protocol messages sent, by type', 'type'),
    messagesIn: new TalliedCounter(registry, 'ringmint_messages_received_total', 'protocol messages received, by type', 'type'),
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
    // The network edge (docs/security.md): frames dropped before decoding, bans, throttling.
    peerRejected: new TalliedCounter(registry, 'ringmint_peer_rejected_total', 'peer frames or gossip dropped before any state change or signature check, by reason (non-member, wrong-type, over-budget, malformed, oversized, partial-timeout, banned, gossip)', 'reason'),
    peerBans: new Counter({ name: 'ringmint_peer_bans_total', help: 'peers banned (score under the threshold): disconnected and refused for a back-off', registers: r }),
    peerThrottled: new TalliedCounter(registry, 'ringmint_peer_throttled_total', 'times a peer\'s streams were paused, by budget (rate: messages or bytes a second; in-flight: messages not yet durable)', 'budget'),
    handshakesEvicted: new Counter({ name: 'ringmint_handshakes_evicted_total', help: 'pending inbound handshakes dropped to make room for a newer connection (slots full: idle or slow sockets)', registers: r }),
    httpRequests: new Counter({ name: 'ringmint_http_requests_total', help: 'HTTP requests, by route and status code', labelNames: ['route', 'code'], registers: r }),
    httpRateLimited: new Counter({ name: 'ringmint_http_rate_limited_total', help: 'HTTP requests refused 429 for a client over its rate, by route', labelNames: ['route'], registers: r }),
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
