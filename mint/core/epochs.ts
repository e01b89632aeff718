// The epoch chain (protocol.md §3, 7): each record names its members, keeps genesis k and
// q, links to the previous record's hash, and is signed by the mint. A new epoch
// is made only when membership changes, and at most once per epochIntervalMs so
// the ring (and the handoffs it causes) does not churn.
import { fromHex, type Bytes } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import { EpochCodec, payload, sign, type EpochRecord } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';
import type { Signer } from '../../protocol/signature.ts';
import { sortMembers } from './genesis-create.ts';

/** Rings kept built at once; older epochs are rebuilt on demand (equivocation checks name old epochs rarely). */
const RING_CACHE_LIMIT = 16;

export class EpochChain {
  private readonly records: EpochRecord[] = [];
  private readonly rings = new Map<number, Ring>();

  constructor(epoch0: EpochRecord) {
    this.records.push(epoch0);
  }

  get current(): EpochRecord {
    return this.records[this.records.length - 1]!;
  }
  get(n: number): EpochRecord | undefined {
    return Number.isInteger(n) && n >= 0 ? this.records[n] : undefined;
  }
  all(): readonly EpochRecord[] {
    return this.records;
  }

  ring(n: number): Ring | undefined {
    let r = this.rings.get(n);
    if (r) return r;
    const rec = this.get(n);
    if (!rec) return undefined;
    if (this.rings.size >= RING_CACHE_LIMIT) this.rings.delete(this.rings.keys().next().value!);
    this.rings.set(n, (r = new Ring(rec)));
    return r;
  }
  currentRing(): Ring {
    return this.ring(this.current.epoch)!;
  }

  /** Signs epoch n+1 with these members (hex ids); not applied yet. */
  next(signer: Signer, members: Iterable<string>, issuedAt: number): EpochRecord {
    const prev = this.current;
    const sorted: Bytes[] = sortMembers([...members].map(fromHex));
    return sign(EpochCodec, prev.network, signer, {
      network: prev.network,
      epoch: prev.epoch + 1,
      members: sorted,
      k: prev.k,
      q: prev.q,
      // Hashed under the chain's network directly: the genesis record may come from anywhere.
      prev: sha256(payload(EpochCodec, prev.network, prev)),
      issuedAt,
    });
  }

  /** Live and on restore. */
  apply(record: EpochRecord): void {
    if (record.epoch !== this.current.epoch + 1) throw new Error(`epoch ${record.epoch} does not follow ${this.current.epoch}`);
    this.records.push(record);
  }
}
