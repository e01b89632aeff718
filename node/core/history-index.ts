// The index records through which a node reads its history back while it runs
// (NodeInit.records): each account's credits in the order applied (`k/`) and the
// bundles stored, in store order (`o/`). Machines write them with each credit and
// bundle. A store written before they existed gets them once, built here from its
// `c/` and `b/` records, before its machine starts (the daemon's upgrade step).
import { fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import { creditAmount, creditRecord, Keys, parseKey } from './record-keys.ts';
import type { PersistRecord } from '../../protocol/ports.ts';

/** Present once a store holds the index records (value: the index format, 1). */
export const HISTORY_INDEX_KEY = Keys.historyIndex;

/**
 * The index records of a store that has none: its `c/` records (key and value) and
 * its `b/` keys, each in key order. The order credits were applied in is not on
 * record, so each account's are indexed by transfer id; bundles likewise.
 */
export function historyIndexRecords(credits: Iterable<readonly [string, Bytes]>, bundleKeys: Iterable<string>): PersistRecord[] {
  const out: PersistRecord[] = [];
  const perAccount = new Map<string, number>();
  for (const [key, value] of credits) {
    const to = toHex(value.subarray(0, 32));
    const n = perAccount.get(to) ?? 0;
    perAccount.set(to, n + 1);
    out.push({ key: Keys.creditOrder(to, n), value: creditRecord(fromHex(onlyField(key)), creditAmount(value)) });
  }
  let n = 0;
  for (const key of bundleKeys) out.push({ key: Keys.bundleOrder(n++), value: fromHex(onlyField(key)) });
  out.push({ key: HISTORY_INDEX_KEY, value: new Uint8Array([1]) });
  return out;
}

/** The one field of a `c/` or `b/` key: its transfer id. */
function onlyField(key: string): string {
  const p = parseKey(key);
  if (p === undefined || p.fields.length !== 1) throw new Error(`not a credit or bundle record key: ${key}`);
  return p.fields[0]!;
}
