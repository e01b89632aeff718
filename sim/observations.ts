// What a run records for its outputs, apart from the invariant checker: the
// per-second series, latency samples, the double-spend timeline, reputation
// changes and membership. The world calls it with the machines' events; it
// decides nothing.
import { toHex } from '../protocol/bytes.ts';
import type { MintEvent } from '../mint/core/api.ts';
import type { Notice } from '../protocol/objects.ts';
import { transferId } from '../protocol/objects.ts';
import { Samples, Series } from './metrics.ts';
import type { DoubleSpendAttempt, TxRecord, Workload } from './workload.ts';

export class Observations {
  readonly series = new Series();
  readonly latency = { final: new Samples(), credited: new Samples(), stored: new Samples() };
  /** [virtual ms, host index, score] per reputation event. */
  readonly reputationLog: [number, number, number][] = [];
  readonly evicted: string[] = [];
  readonly admitted: string[] = [];
  private readonly workload: Workload;

  constructor(workload: Workload) {
    this.workload = workload;
  }

  /** A wallet transfer reached a new status: the series and latency of each first time. */
  onTransferStatus(rec: TxRecord, now: number): void {
    const s = rec.status;
    if (s === 'final' || s === 'credited' || s === 'stored') {
      if (rec.finalAt === now) {
        this.series.add('final', now);
        this.latency.final.add(now - rec.submittedAt);
      }
      if (rec.creditedAt === now) {
        this.series.add('credited', now);
        this.latency.credited.add(now - rec.submittedAt);
      }
      if (s === 'stored') {
        this.series.add('stored', now);
        this.latency.stored.add(now - rec.submittedAt);
      }
    } else if (s === 'rejected' || s === 'conflict') this.series.add(s, now);
  }

  /** A node sent a notice; an honest node's double-spend notice marks its attempt detected. */
  onNotice(notice: Notice, honest: boolean, now: number): void {
    this.series.add('notices', now);
    const e = notice.evidence;
    if (honest && e.kind === 'double-spend') {
      const attempt = this.attemptFor(toHex(transferId(e.t1)), toHex(transferId(e.t2)));
      if (attempt && attempt.detectedAt === undefined) attempt.detectedAt = now;
    }
  }

  /** The mint's events; `hostIndex` names a node by its hex id. */
  onMintEvent(ev: MintEvent, now: number, hostIndex: (hex: string) => number | undefined): void {
    switch (ev.type) {
      case 'alert': {
        this.series.add('alerts', now);
        const e = ev.evidence;
        if (e.kind === 'double-spend') {
          const attempt = this.attemptFor(toHex(transferId(e.t1)), toHex(transferId(e.t2)));
          if (attempt && attempt.alertAt === undefined) attempt.alertAt = now;
        }
        break;
      }
      case 'repudiation': this.series.add('repudiations', now); break;
      case 'epoch': this.series.add('epochs', now); break;
      case 'reputation': {
        const i = hostIndex(toHex(ev.event.node));
        if (i !== undefined) this.reputationLog.push([Math.round(now), i, ev.event.score]);
        break;
      }
      case 'evicted': this.evicted.push(toHex(ev.node)); break;
      case 'admitted': this.admitted.push(toHex(ev.node)); break;
      default: break;
    }
  }

  private attemptFor(a: string, b: string): DoubleSpendAttempt | undefined {
    const r = this.workload.byId.get(a) ?? this.workload.byId.get(b);
    if (!r || r.kind !== 'double-spend') return undefined;
    return this.workload.attemptOf.get(r.from);
  }
}
