// Counters per virtual second (timeseries.csv) and latency samples (percentiles,
// CDF plots). Everything here is a pure function of the run, so it replays exactly.

export const SERIES_COLUMNS = [
  'submitted', 'final', 'credited', 'stored', 'rejected', 'conflict',
  'messages', 'bytes', 'dropped', 'notices', 'alerts', 'repudiations', 'epochs', 'nodesUp', 'inFlight', 'events',
] as const;
export type SeriesColumn = (typeof SERIES_COLUMNS)[number];

export class Series {
  private readonly cols = new Map<SeriesColumn, number[]>();
  seconds = 0;

  constructor() {
    for (const c of SERIES_COLUMNS) this.cols.set(c, []);
  }

  add(col: SeriesColumn, timeMs: number, n = 1): void {
    const s = Math.floor(timeMs / 1000);
    const arr = this.cols.get(col)!;
    while (arr.length <= s) arr.push(0);
    arr[s]! += n;
    if (s + 1 > this.seconds) this.seconds = s + 1;
  }

  /** Sets a gauge (a level, not a count) for second `s`. */
  set(col: SeriesColumn, s: number, v: number): void {
    const arr = this.cols.get(col)!;
    while (arr.length <= s) arr.push(0);
    arr[s] = v;
    if (s + 1 > this.seconds) this.seconds = s + 1;
  }

  column(col: SeriesColumn): number[] {
    const arr = this.cols.get(col)!;
    const out = new Array<number>(this.seconds).fill(0);
    for (let i = 0; i < arr.length && i < this.seconds; i++) out[i] = arr[i]!;
    return out;
  }

  csv(): string {
    const lines = ['second,' + SERIES_COLUMNS.join(',')];
    const cols = SERIES_COLUMNS.map((c) => this.column(c));
    for (let s = 0; s < this.seconds; s++) lines.push([s, ...cols.map((c) => c[s]!)].join(','));
    return lines.join('\n') + '\n';
  }
}

/** Latency samples, ms; kept whole (one float per transfer) for exact percentiles and the CDF. */
export class Samples {
  private values: number[] = [];
  private sorted = true;

  add(v: number): void {
    this.values.push(v);
    this.sorted = false;
  }

  get count(): number {
    return this.values.length;
  }

  private sort(): number[] {
    if (!this.sorted) {
      this.values.sort((a, b) => a - b);
      this.sorted = true;
    }
    return this.values;
  }

  /** Nearest-rank percentile; 0 when empty. */
  pct(p: number): number {
    const v = this.sort();
    if (v.length === 0) return 0;
    const i = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
    return round(v[i]!);
  }

  summary(): { p50: number; p90: number; p99: number; max: number; count: number } {
    return { p50: this.pct(50), p90: this.pct(90), p99: this.pct(99), max: this.pct(100), count: this.count };
  }

  /** Up to `points` (value, fraction) pairs of the empirical CDF. */
  cdf(points = 200): [number, number][] {
    const v = this.sort();
    if (v.length === 0) return [];
    const out: [number, number][] = [];
    const step = Math.max(1, Math.floor(v.length / points));
    for (let i = 0; i < v.length; i += step) out.push([v[i]!, (i + 1) / v.length]);
    out.push([v[v.length - 1]!, 1]);
    return out;
  }
}

/** Percentiles of a plain array (load per node). */
export function percentiles(values: number[]): { mean: number; p1: number; p50: number; p99: number; max: number } {
  if (values.length === 0) return { mean: 0, p1: 0, p50: 0, p99: 0, max: 0 };
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number): number => v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: round(mean), p1: at(1), p50: at(50), p99: at(99), max: v[v.length - 1]! };
}

/** Figures in outputs keep 3 decimals: stable text, no float noise. */
export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
