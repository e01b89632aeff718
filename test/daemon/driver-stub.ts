// A driver for tests: a store whose commits finish when the test says so, silent
// logs, fresh metrics, no tick work, and any failure thrown at once.
import { pino } from 'pino';
import type { PersistRecord } from '../../protocol/ports.ts';
import { Driver, type DriverInit } from '../../runtime/driver.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import type { Store } from '../../runtime/store.ts';

/** A store whose commits finish when the test calls `finish`. */
export function manualStore() {
  const waiting: { records: readonly PersistRecord[]; finish: () => void }[] = [];
  const store = {
    onBatch: null,
    commit(records: readonly PersistRecord[]): Promise<void> {
      return new Promise<void>((finish) => waiting.push({ records, finish }));
    },
  };
  return { store: store as unknown as Store, waiting };
}

export function testDriver(store: Store, over: Partial<DriverInit<never>> = {}): Driver<never> {
  return new Driver<never>({
    store,
    transport: { send: () => {} },
    tick: () => ({ send: [], persist: [], events: [] }),
    onEvents: () => {},
    metrics: createMetrics('node'),
    log: pino({ level: 'silent' }),
    onFatal: (e) => {
      throw e;
    },
    ...over,
  });
}
