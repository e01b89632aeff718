// Offline check of a receipt bundle (protocol.md §4): the bundle's certificate and receipts
// against the epoch records they name. Records may come from any node, because
// each one is checked here: signed by the mint pinned in the genesis file and
// chained by `prev` back to epoch 0 of that genesis. No node is trusted.
import { encodeAddress } from '../protocol/address.ts';
import { checkBundle } from '../protocol/certificate.ts';
import { Rejection } from '../protocol/errors.ts';
import type { Genesis } from '../protocol/genesis.ts';
import { bundleFromHex, epochFromHex } from '../protocol/json.ts';
import { transferIdHex, type Bundle, type EpochRecord } from '../protocol/objects.ts';
import { Ring, validateEpoch } from '../protocol/ring.ts';
import { ed25519 } from '../protocol/signature.ts';

/** Fetches the hex of epoch record n from somewhere untrusted. */
export type EpochSource = (n: number) => Promise<string>;

export type VerifyResult =
  | {
      valid: true;
      transferId: string;
      from: string;
      to: string;
      amount: string;
      seq: number;
      memo: string;
      votes: number;
      receipts: number;
      epochs: number[];
    }
  | { valid: false; transferId?: string; error: string; message: string };

/** Verifies `bundleHex` (as served by GET /receipts/:id) for transfer `expectId` under `genesis`. */
export async function verifyBundle(bundleHex: string, genesis: Genesis, epochs: EpochSource, expectId?: string): Promise<VerifyResult> {
  let bundle: Bundle;
  try {
    if (!/^([0-9a-f]{2})+$/.test(bundleHex)) throw new Rejection('MALFORMED', 'the bundle is not hex');
    bundle = bundleFromHex(bundleHex, genesis.network);
  } catch (e) {
    return { valid: false, error: (e as Rejection).code ?? 'MALFORMED', message: `bundle does not decode: ${(e as Error).message}` };
  }
  const t = bundle.certificate.transfer;
  const transferId = transferIdHex(t);
  if (expectId !== undefined && expectId !== transferId) {
    return { valid: false, transferId, error: 'BAD_BUNDLE', message: `the bundle is for transfer ${transferId}, not ${expectId}` };
  }
  const named = new Set<number>([...bundle.certificate.votes.map((v) => v.epoch), ...bundle.receipts.map((x) => x.epoch)]);
  const rings = new Map<number, Ring>();
  try {
    const last = Math.max(0, ...named);
    let prev: EpochRecord = genesis.epoch0;
    if (named.has(0)) rings.set(0, new Ring(prev));
    for (let n = 1; n <= last; n++) {
      let rec: EpochRecord;
      try {
        rec = epochFromHex(await epochs(n), genesis.network);
      } catch (e) {
        throw new Rejection('UNKNOWN_EPOCH', `epoch ${n} could not be had: ${(e as Error).message}`);
      }
      if (rec.epoch !== n || rec.network !== genesis.network) throw new Rejection('BAD_EPOCH', `the record served as epoch ${n} is epoch ${rec.epoch} of ${rec.network}`);
      validateEpoch(rec, genesis.mintKey, ed25519, prev);
      if (named.has(n)) rings.set(n, new Ring(rec));
      prev = rec;
    }
    checkBundle(bundle, { network: genesis.network, verifier: ed25519, ringOf: (n) => rings.get(n) });
  } catch (e) {
    if (e instanceof Rejection) return { valid: false, transferId, error: e.code, message: e.message };
    throw e;
  }
  return {
    valid: true,
    transferId,
    from: encodeAddress(t.from),
    to: encodeAddress(t.to),
    amount: t.amount.toString(),
    seq: t.seq,
    memo: new TextDecoder().decode(t.memo),
    votes: bundle.certificate.votes.length,
    receipts: bundle.receipts.length,
    epochs: [...named].sort((a, b) => a - b),
  };
}
