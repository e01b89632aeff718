// One-off upgrades of a node's store, run before its machine starts.
import type { Logger } from 'pino';
import { HISTORY_INDEX_KEY, historyIndexRecords } from '../core/history-index.ts';
import { Prefix } from '../core/record-keys.ts';
import type { Store } from '../../runtime/store.ts';

/** A store from before the history index (core/history-index.ts) gets it, once. */
export async function upgradeStore(store: Store, log: Logger): Promise<void> {
  if (store.get(HISTORY_INDEX_KEY) !== undefined) return;
  const credits: [string, Uint8Array][] = [];
  for await (const entry of store.scan(Prefix.credit)) credits.push(entry);
  const bundles: string[] = [];
  // Stored bundles' records: the upgrade lists their keys only.
  for await (const [k] of store.scan(Prefix.bundle, false)) bundles.push(k);
  await store.commit(historyIndexRecords(credits, bundles));
  if (credits.length + bundles.length > 0) log.info({ credits: credits.length, bundles: bundles.length }, 'store upgraded: history index written');
}
