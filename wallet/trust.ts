// Checking what nodes say, so the wallet trusts no single node (protocol.md §4, §5):
// epoch records are checked against the pinned genesis (mint-signed, chained by
// `prev`), certificates and bundles against those records, and an account's seq
// and head against a certificate for that head. Any node may serve the evidence.
import { decodeAddress } from '../protocol/address.ts';
import { fromHex } from '../protocol/bytes.ts';
import { checkBundle, checkCertificate } from '../protocol/certificate.ts';
import { Rejection } from '../protocol/errors.ts';
import type { Genesis } from '../protocol/genesis.ts';
import { bundleFromHex, epochFromHex, transferFromJson, type TransferJson } from '../protocol/json.ts';
import { decodeWith, readCertificate, transferIdHex, TransferCodec, verify, type Bundle, type Certificate, type EpochRecord } from '../protocol/objects.ts';
import { Ring, validateEpoch } from '../protocol/ring.ts';
import { ed25519 } from '../protocol/signature.ts';
import type { Proof } from './submission.ts';

/** Fetches the hex of epoch record n from somewhere untrusted. */
export type EpochSource = (n: number) => Promise<string>;

/** Epoch records checked from the genesis forward, kept for one command. */
export class TrustedEpochs {
  readonly genesis: Genesis;
  private readonly source: EpochSource;
  private readonly records: EpochRecord[];
  private readonly rings = new Map<number, Ring>();

  constructor(genesis: Genesis, source: EpochSource) {
    this.genesis = genesis;
    this.source = source;
    this.records = [genesis.epoch0];
  }

  /** Checks records up to `n` (each signed by the pinned mint and chained to the one before). */
  async upTo(n: number): Promise<void> {
    while (this.records.length <= n) {
      const at = this.records.length;
      let rec: EpochRecord;
      try {
        rec = epochFromHex(await this.source(at), this.genesis.network);
      } catch (e) {
        throw new Rejection('UNKNOWN_EPOCH', `epoch ${at} could not be had: ${(e as Error).message}`);
      }
      if (rec.epoch !== at || rec.network !== this.genesis.network) throw new Rejection('BAD_EPOCH', `the record served as epoch ${at} is epoch ${rec.epoch} of ${rec.network}`);
      validateEpoch(rec, this.genesis.mintKey, ed25519, this.records[at - 1]);
      this.records.push(rec);
    }
  }

  ringOf = (n: number): Ring | undefined => {
    const rec = this.records[n];
    if (rec === undefined) return undefined;
    let r = this.rings.get(n);
    if (r === undefined) this.rings.set(n, (r = new Ring(rec)));
    return r;
  };

  /** The newest checked record (for k and q). */
  get latest(): EpochRecord {
    return this.records[this.records.length - 1]!;
  }

  private async ready(epochs: Iterable<number>): Promise<void> {
    let last = 0;
    for (const e of epochs) last = Math.max(last, e);
    await this.upTo(last);
  }

  /** True when `hex` is a valid certificate for transfer `id` (q valid votes of the sender's custodians). */
  async certificate(hex: unknown, id: string): Promise<Certificate | null> {
    if (typeof hex !== 'string' || !/^([0-9a-f]{2})+$/.test(hex)) return null;
    try {
      const c = decodeWith(this.genesis.network, fromHex(hex), readCertificate);
      if (transferIdHex(c.transfer) !== id) return null;
      await this.ready(c.votes.map((v) => v.epoch));
      checkCertificate(c, { network: this.genesis.network, verifier: ed25519, ringOf: this.ringOf });
      return c;
    } catch {
      return null;
    }
  }

  /** True when `hex` is a valid bundle for transfer `id` (a certificate and q valid receipts of the recipient's custodians). */
  async bundle(hex: unknown, id: string): Promise<Bundle | null> {
    if (typeof hex !== 'string' || !/^([0-9a-f]{2})+$/.test(hex)) return null;
    try {
      const b = bundleFromHex(hex, this.genesis.network);
      if (transferIdHex(b.certificate.transfer) !== id) return null;
      await this.ready([...b.certificate.votes.map((v) => v.epoch), ...b.receipts.map((x) => x.epoch)]);
      checkBundle(b, { network: this.genesis.network, verifier: ed25519, ringOf: this.ringOf });
      return b;
    } catch {
      return null;
    }
  }
}

/** Does `t` verify on `network`? If not, no custodian there can ever lock it (the signed payload names the network). */
export function verifiesOn(t: TransferJson, network: string): boolean {
  try {
    const parsed = transferFromJson({ ...t, id: undefined }, network);
    return verify(TransferCodec, network, ed25519, decodeAddress(t.from), parsed) && transferIdHex(parsed) === t.id;
  } catch {
    return false;
  }
}

/** What a node's transfer view proves, checked here: the strongest of certificate and bundle. */
export async function proofOf(epochs: TrustedEpochs, id: string, view: Record<string, unknown>): Promise<Proof> {
  if (view.bundle !== undefined && (await epochs.bundle(view.bundle, id))) return 'bundle';
  if (view.certificate !== undefined && (await epochs.certificate(view.certificate, id))) return 'certificate';
  return 'none';
}
