// Issuances the mint has not yet seen stored (protocol.md §5a): every one is handed to
// a gateway again on a timer, each time to the next member, until a storage node shows
// its bundle; after a restart all of them at once. A lost issuance would otherwise hold
// every later one (each names the previous as `prev`). Handing one over again is a
// resubmission, idempotent by transfer id.

/** Re-drives started in one tick at most: a long backlog after a restart goes out in slices. */
export const MAX_REDRIVES_PER_TICK = 256;
/** A re-drive waits redriveMs × 2^attempt (attempts past this one wait as long as it). */
const MAX_BACKOFF_STEPS = 3;

type Retry = { attempt: number; nextAt: number };

export class Redrive {
  /** Every issuance up to this seq is known stored (durable: the mint log's `settled` entries). */
  private settledUpTo = 0;
  /** Known stored above the watermark (memory: after a restart they are checked again). */
  private readonly settledAbove = new Set<number>();
  private readonly retries = new Map<number, Retry>();
  /** The next seq the tick looks at (round robin over the pending ones). */
  private cursor = 1;

  get watermark(): number {
    return this.settledUpTo;
  }

  /** A `settled` log entry, live or on restore. */
  applySettled(upTo: number): void {
    if (upTo <= this.settledUpTo) return;
    this.settledUpTo = upTo;
    for (const s of [...this.settledAbove]) if (s <= upTo) this.settledAbove.delete(s);
    for (const s of [...this.retries.keys()]) if (s <= upTo) this.retries.delete(s);
  }

  /** Whether issuance `seq` still waits to be seen stored. */
  isPending(seq: number, lastSeq: number): boolean {
    return seq > this.settledUpTo && seq <= lastSeq && !this.settledAbove.has(seq);
  }

  /** A fresh issuance went to its gateway (attempt 0): its first re-drive is one interval away. */
  issued(seq: number, now: number, redriveMs: number): void {
    this.retries.set(seq, { attempt: 0, nextAt: now + redriveMs });
  }

  /**
   * Issuance `seq` was seen stored. Returns the new watermark when it moved (the
   * caller logs it), else null.
   */
  settle(seq: number, lastSeq: number): number | null {
    if (!this.isPending(seq, lastSeq)) return null;
    this.settledAbove.add(seq);
    this.retries.delete(seq);
    let w = this.settledUpTo;
    while (this.settledAbove.has(w + 1)) this.settledAbove.delete(++w);
    if (w === this.settledUpTo) return null;
    this.settledUpTo = w;
    return w;
  }

  /**
   * The pending issuances due for another gateway now, with the attempt number that
   * picks it. One unseen since this process started (a restart) is due at once.
   */
  due(now: number, lastSeq: number, redriveMs: number): { seq: number; attempt: number }[] {
    const out: { seq: number; attempt: number }[] = [];
    const pending = lastSeq - this.settledUpTo;
    if (pending <= 0) return out;
    if (this.cursor <= this.settledUpTo || this.cursor > lastSeq) this.cursor = this.settledUpTo + 1;
    for (let n = 0; n < pending && out.length < MAX_REDRIVES_PER_TICK; n++) {
      const seq = this.cursor;
      this.cursor = seq >= lastSeq ? this.settledUpTo + 1 : seq + 1;
      if (this.settledAbove.has(seq)) continue;
      const r = this.retries.get(seq) ?? { attempt: 0, nextAt: 0 };
      if (r.nextAt > now) continue;
      r.attempt++;
      r.nextAt = now + redriveMs * 2 ** Math.min(r.attempt, MAX_BACKOFF_STEPS);
      this.retries.set(seq, r);
      out.push({ seq, attempt: r.attempt });
    }
    return out;
  }

  /** How many issuances wait to be seen stored. */
  pendingCount(lastSeq: number): number {
    return Math.max(0, lastSeq - this.settledUpTo - this.settledAbove.size);
  }

  /** Up to `limit` pending seqs, oldest first (the daemon looks their bundles up). */
  pending(lastSeq: number, limit: number): number[] {
    const out: number[] = [];
    for (let s = this.settledUpTo + 1; s <= lastSeq && out.length < limit; s++) if (!this.settledAbove.has(s)) out.push(s);
    return out;
  }
}
