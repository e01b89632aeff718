// Runs one protocol machine (node or mint) in a daemon: steps are synchronous and
// so naturally serialised; each step's Output is made durable (group commit), then
// its messages are sent and its events emitted, strictly in step order. That order
// is what makes "durable before acknowledged" (protocol.md §8) hold.
import { AssertionError } from '../protocol/assert.ts';
import { monitorEventLoopDelay, } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Address, Output } from '../protocol/ports.ts';
import type { Message } from '../protocol/messages.ts';
import type { Store } from './store.ts';
import type { DaemonMetrics } from './metrics.ts';
import { failpoints as processFailpoints, type Failpoints } from './failpoints.ts';

export interface Transport {
  /** Fire and forget: the protocol retries what matters. */
  send(to: Address, msg: Message): void;
}

/** Timer tick of the machines (api.ts: call every ~100 ms). */
export const TICK_MS = 100;
/** Event-loop lag is sampled over this window. */
const LAG_WINDOW_MS = 5_000;

type Entry<E> = { kind: string; output: Output<E>; ready: boolean; failed: boolean; done: () => void; mark: number };

/** A batching signer's gate (core/batch-signature.ts): what a step signed is released once its writes are durable. */
export interface SignatureBatches {
  mark(): number;
  release(mark: number): void;
}

export type DriverInit<E> = {
  readonly store: Store;
  readonly transport: Transport;
  readonly tick: () => Output<E>;
  readonly onEvents: (events: readonly E[]) => void;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  /** A write to disk failed: the daemon must stop rather than send unbacked answers. */
  readonly onFatal: (e: unknown) => void;
  /** The node's batching signer, if any: objects share a batch only once their steps are durable. */
  readonly batches?: SignatureBatches;
  /** Crash points (runtime/failpoints.ts); the process's own, from RINGMINT_FAILPOINTS, by default. */
  readonly failpoints?: Failpoints;
};

export class Driver<E> {
  private readonly init: DriverInit<E>;
  private readonly pending: Entry<E>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lagTimer: NodeJS.Timeout | null = null;
  private lag: ReturnType<typeof monitorEventLoopDelay> | null = null;
  private stopped = false;
  private flushQueued = false;
  private readonly failpoints: Failpoints;

  constructor(init: DriverInit<E>) {
    this.init = init;
    this.failpoints = init.failpoints ?? processFailpoints;
    if (this.failpoints.enabled) init.log.warn({ failpoints: this.failpoints.names() }, 'failpoints armed: this process exits when one is reached (crash tests only)');
    init.store.onBatch = (records, steps, seconds) => {
      init.metrics.commitSeconds.observe(seconds);
      init.metrics.commitSteps.observe(steps);
      init.metrics.commitRecords.inc(records);
    };
  }

  start(): void {
    this.timer = setInterval(() => void this.step('tick', this.init.tick), TICK_MS);
    this.lag = monitorEventLoopDelay({ resolution: 10 });
    this.lag.enable();
    this.lagTimer = setInterval(() => {
      this.init.metrics.eventLoopLag.set(this.lag!.percentile(99) / 1e9);
      this.lag!.reset();
    }, LAG_WINDOW_MS);
    this.timer.unref();
    this.lagTimer.unref();
  }

  /**
   * Runs one step. Resolves once its writes are durable and its messages handed to
   * the transport; rejects if the step threw (a bug: nothing of it is applied).
   */
  step(kind: string, fn: () => Output<E>): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('daemon stopping'));
    const started = performance.now();
    let output: Output<E>;
    try {
      output = fn();
    } catch (e) {
      this.init.metrics.stepErrors.inc();
      if (e instanceof AssertionError) {
        // A broken invariant: the machine's memory can no longer be trusted, so nothing more is written or sent.
        this.init.log.fatal({ err: e, kind }, 'machine invariant broken');
        this.stopped = true;
        this.init.onFatal(e);
      } else this.init.log.error({ err: e, kind }, 'machine step threw');
      return Promise.reject(e);
    }
    const seconds = (performance.now() - started) / 1000;
    this.init.metrics.steps.inc(kind);
    this.init.metrics.stepSeconds.observe(seconds);
    this.init.metrics.stepSecondsByKind.inc(kind, seconds);
    if (output.send.length === 0 && output.persist.length === 0 && output.events.length === 0) return Promise.resolve();
    const mark = this.init.batches?.mark() ?? 0;
    return new Promise<void>((done) => {
      const entry: Entry<E> = { kind, output, ready: false, failed: false, done, mark };
      this.pending.push(entry);
      this.init.store.commit(output.persist).then(
        () => {
          entry.ready = true;
          // After the other steps of the same synced batch are marked ready too (their
          // callbacks are already queued): one flush sends them all, in one signature batch.
          if (!this.flushQueued) {
            this.flushQueued = true;
            queueMicrotask(() => {
              this.flushQueued = false;
              this.flush();
            });
          }
        },
        (e: unknown) => {
          entry.failed = true;
          this.init.log.fatal({ err: e }, 'durable write failed');
          this.init.onFatal(e);
        },
      );
    });
  }

  /** Delivers ready outputs in step order. */
  private flush(): void {
    // The ready steps at the front are durable, and so is all before them: what they
    // signed may share one batch, sealed when their first answer is encoded.
    let last = -1;
    while (last + 1 < this.pending.length && this.pending[last + 1]!.ready) last++;
    if (last >= 0) this.init.batches?.release(this.pending[last]!.mark);
    while (this.pending.length > 0 && this.pending[0]!.ready) {
      const { kind, output, done } = this.pending.shift()!;
      if (this.failpoints.enabled) {
        // Crash tests: this step is durable, nothing it produced has left yet.
        if (output.persist.length > 0) this.failpoints.hit(`persisted:${kind}`);
        if (output.send.length > 0) this.failpoints.hit(`send:${kind}`);
      }
      for (const o of output.send) {
        try {
          this.init.transport.send(o.to, o.msg);
          this.init.metrics.messagesOut.inc(o.msg.type);
        } catch (e) {
          this.init.log.warn({ err: e, type: o.msg.type }, 'send failed');
        }
      }
      if (output.events.length > 0) {
        try {
          this.init.onEvents(output.events);
        } catch (e) {
          this.init.log.error({ err: e }, 'event handler threw');
        }
      }
      done();
    }
  }

  /** Stops ticking and waits for every step already run to be written and delivered. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.lag?.disable();
    this.timer = this.lagTimer = null;
    this.stopped = true;
    const last = this.pending[this.pending.length - 1];
    if (last && !last.failed) await new Promise<void>((res) => {
      const prev = last.done;
      last.done = () => (prev(), res());
    });
  }
}
