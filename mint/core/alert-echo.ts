// Alerts sent again (protocol.md §6): gossip does not reach a node cut off from the mint
// (a partition, a lost link) when an alert is made, and nothing else would bring it
// later, so the node would never freeze the account or void the equivocator. The mint
// broadcasts each alert again ECHO_FIRST_MS after it made it, then at doubling
// intervals, ECHOES times in all (3, 9, 21, 45 and 93 s after it: a cut of up to about
// 90 s is covered). Nodes drop a copy they hold by its alert number before any check.
import type { Alert } from '../../protocol/objects.ts';

/** First re-broadcast of an alert, this long after it was made; each later one waits twice as long. */
export const ECHO_FIRST_MS = 3_000;
/** Re-broadcasts of one alert. */
export const ECHOES = 5;
/** Alerts being re-sent at once; past this the oldest stops early (alerts need valid evidence: rare). */
export const MAX_ECHOING = 1_024;

type Echo = { readonly alert: Alert; sent: number; nextAt: number };

export class AlertEcho {
  private readonly list: Echo[] = [];

  /** A new alert, just broadcast. */
  made(alert: Alert, now: number): void {
    if (this.list.length >= MAX_ECHOING) this.list.shift();
    this.list.push({ alert, sent: 0, nextAt: now + ECHO_FIRST_MS });
  }

  /** The alerts due for another broadcast now; those sent ECHOES times are forgotten. */
  due(now: number): Alert[] {
    if (this.list.length === 0) return [];
    const out: Alert[] = [];
    for (const e of this.list) {
      if (e.nextAt > now) continue;
      out.push(e.alert);
      e.sent++;
      e.nextAt = now + ECHO_FIRST_MS * 2 ** e.sent;
    }
    if (out.length > 0) for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]!.sent >= ECHOES) this.list.splice(i, 1);
    return out;
  }

  get size(): number {
    return this.list.length;
  }
}
