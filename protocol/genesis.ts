// The genesis file: everything a node, the mint and a wallet must agree on before
// the first message (protocol.md §3, 6, 7). JSON on disk; epoch 0 is carried as the hex of
// its signed encoding so it verifies byte for byte.
import { fromHex, toHex, type Bytes } from './bytes.ts';
import { Reason, Rejection } from './errors.ts';
import { decodeWith, encodeWith, readEpoch, writeEpoch, Limits, type EpochRecord } from './objects.ts';
import { validateEpoch } from './ring.ts';
import type { Verifier } from './signature.ts';

/** Reputation parameters (protocol.md §6), in points; decay applies once per epoch. */
export type ReputationParams = {
  readonly validNotice: number;
  readonly duplicateNotice: number;
  readonly invalidNotice: number;
  readonly decay: number;
  readonly graylist: number;
  readonly evict: number;
};

export const DEFAULT_REPUTATION: ReputationParams = {
  validNotice: 1,
  duplicateNotice: 0.1,
  invalidNotice: -10,
  decay: 0.9,
  graylist: -20,
  evict: -50,
};

export type AdmissionPolicy = 'open' | 'allowlist';

export type Genesis = {
  readonly network: string;
  /** The mint's Ed25519 public key; also the issuance account. */
  readonly mintKey: Bytes;
  readonly decimals: number;
  readonly symbol: string;
  /** Total base units that may ever be issued; null for no cap. */
  readonly supplyCap: bigint | null;
  readonly reputation: ReputationParams;
  readonly admission: AdmissionPolicy;
  readonly epoch0: EpochRecord;
};

export type GenesisJson = {
  network: string;
  mintKey: string;
  decimals: number;
  symbol: string;
  supplyCap: string | null;
  reputation: ReputationParams;
  admission: AdmissionPolicy;
  k: number;
  q: number;
  epoch0: string;
};

export function genesisToJson(g: Genesis): GenesisJson {
  return {
    network: g.network,
    mintKey: toHex(g.mintKey),
    decimals: g.decimals,
    symbol: g.symbol,
    supplyCap: g.supplyCap === null ? null : g.supplyCap.toString(),
    reputation: g.reputation,
    admission: g.admission,
    k: g.epoch0.k,
    q: g.epoch0.q,
    epoch0: toHex(encodeWith(g.epoch0, writeEpoch)),
  };
}

/** Parses and checks a genesis file's JSON; throws Rejection(BAD_REQUEST) with the field at fault. */
export function genesisFromJson(j: unknown, verifier: Verifier): Genesis {
  const o = j as Partial<GenesisJson>;
  const bad = (field: string): never => {
    throw new Rejection(Reason.BAD_REQUEST, `genesis: bad or missing "${field}"`);
  };
  if (!o || typeof o !== 'object') bad('(root)');
  if (typeof o.network !== 'string' || o.network.length === 0 || Buffer.byteLength(o.network) > Limits.NETWORK_BYTES) bad('network');
  if (typeof o.mintKey !== 'string' || !/^[0-9a-f]{64}$/.test(o.mintKey)) bad('mintKey');
  if (!Number.isInteger(o.decimals) || o.decimals! < 0 || o.decimals! > 18) bad('decimals');
  if (typeof o.symbol !== 'string' || o.symbol.length === 0 || o.symbol.length > 12) bad('symbol');
  if (o.supplyCap !== null && (typeof o.supplyCap !== 'string' || !/^[0-9]+$/.test(o.supplyCap))) bad('supplyCap');
  if (o.admission !== 'open' && o.admission !== 'allowlist') bad('admission');
  if (typeof o.epoch0 !== 'string') bad('epoch0');
  const rep = { ...DEFAULT_REPUTATION, ...(o.reputation ?? {}) };
  for (const [key, v] of Object.entries(rep)) if (typeof v !== 'number' || !Number.isFinite(v)) bad(`reputation.${key}`);
  if (!/^([0-9a-f]{2})+$/.test(o.epoch0!)) bad('epoch0');
  const mintKey = fromHex(o.mintKey!);
  let epoch0: EpochRecord;
  try {
    epoch0 = decodeWith(o.network!, fromHex(o.epoch0!), readEpoch, Limits.EPOCH_RECORD_BYTES);
    if (epoch0.epoch !== 0) throw new Rejection(Reason.BAD_EPOCH, `epoch ${epoch0.epoch}, expected 0`);
    validateEpoch(epoch0, mintKey, verifier);
  } catch (e) {
    // Name the field whatever failed inside it (decoding, network, signature, k/q).
    if (e instanceof Rejection) throw new Rejection(Reason.BAD_REQUEST, `genesis: bad "epoch0": ${e.message}`);
    throw e;
  }
  // k and q are shown for people; epoch0 is what counts, so they must agree with it.
  if (o.k !== undefined && o.k !== epoch0.k) bad('k');
  if (o.q !== undefined && o.q !== epoch0.q) bad('q');
  return {
    network: o.network!,
    mintKey,
    decimals: o.decimals!,
    symbol: o.symbol!,
    supplyCap: o.supplyCap === null || o.supplyCap === undefined ? null : BigInt(o.supplyCap),
    reputation: rep,
    admission: o.admission!,
    epoch0,
  };
}
