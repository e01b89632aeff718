// Epoch records a daemon keeps to answer GET /epochs/:n: genesis's epoch 0 always,
// and the newest EPOCHS_KEPT others (the mint serves every record).
import type { EpochRecord } from '../protocol/objects.ts';

/** Epoch records kept besides epoch 0. */
export const EPOCHS_KEPT = 64;

export class EpochRecords {
  private readonly records = new Map<number, EpochRecord>();

  remember(e: EpochRecord): void {
    this.records.set(e.epoch, e);
    if (this.records.size > EPOCHS_KEPT) for (const n of this.records.keys()) if (n !== 0 && this.records.size > EPOCHS_KEPT) this.records.delete(n);
  }

  get(n: number): EpochRecord | undefined {
    return this.records.get(n);
  }
}
