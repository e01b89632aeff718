// Reading the daemons' /metrics for a benchmark: sums of one metric's series across
// daemons, by the value of one label, so a run reports where time went (machine steps
// by kind, GC pauses by kind) from the same counters operators scrape.
import { callJson } from '../runtime/http-client.ts';

/** `name{...label="v"...} x` lines of every daemon, summed by v (series without the label are skipped). */
export async function sumByLabel(apis: readonly string[], name: string, label: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const api of apis) sumSeries(String((await callJson<string>('GET', `${api}/metrics`)).body), name, label, out);
  return out;
}

/** Adds the series of `name` in one Prometheus text exposition into `into`, by the value of `label`. */
export function sumSeries(text: string, name: string, label: string, into: Map<string, number>): Map<string, number> {
  const labelAt = `${label}="`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    // the label starts the set or follows a comma: `kind=` must not match `subkind=`
    let at = line.indexOf('{' + labelAt);
    if (at < 0) at = line.indexOf(',' + labelAt);
    if (at < 0) continue;
    const from = at + 1 + labelAt.length;
    const value = line.slice(from, line.indexOf('"', from));
    into.set(value, (into.get(value) ?? 0) + (Number(line.slice(line.lastIndexOf(' ') + 1)) || 0));
  }
  return into;
}

/** What grew between two readings of sumByLabel. */
export function growth(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

/** Message kinds that are anti-entropy's work (protocol.md §7, Anti-entropy): digests, and the states and pulls they cause. */
export const ANTI_ENTROPY_KINDS = ['digest', 'account-state', 'account-pull'] as const;
