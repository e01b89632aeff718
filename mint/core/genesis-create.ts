// Making a network's genesis (protocol.md §3, 6, 7): the parameters everyone must agree on
// before the first message, with epoch 0 signed by the mint. Used by the devnet,
// the simulator and tests; the result round-trips through genesisToJson/FromJson.
import { compare, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import { DEFAULT_REPUTATION, type AdmissionPolicy, type Genesis, type ReputationParams } from '../../protocol/genesis.ts';
import { EpochCodec, Limits, sign, type EpochRecord } from '../../protocol/objects.ts';
import type { Signer } from '../../protocol/signature.ts';

export type GenesisParams = {
  readonly network: string;
  readonly mint: Signer;
  /** Node ids of epoch 0; any order, duplicates dropped. */
  readonly members: readonly Bytes[];
  readonly k?: number;
  readonly q?: number;
  readonly decimals?: number;
  readonly symbol?: string;
  readonly supplyCap?: bigint | null;
  readonly reputation?: Partial<ReputationParams>;
  readonly admission?: AdmissionPolicy;
  /** Time stamped on epoch 0, ms; the caller's clock (protocol code reads no OS clock). */
  readonly issuedAt: number;
};

/** Sorted, distinct copies of node ids: the canonical member order of an epoch record. */
export function sortMembers(members: Iterable<Bytes>): Bytes[] {
  const seen = new Set<string>();
  const out: Bytes[] = [];
  for (const m of members) {
    const key = Buffer.from(m).toString('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(Uint8Array.from(m));
  }
  return out.sort(compare);
}

export function createGenesis(p: GenesisParams): Genesis {
  const k = p.k ?? 4;
  const q = p.q ?? 3;
  const bad = (why: string): never => {
    throw new Rejection(Reason.BAD_REQUEST, `genesis: ${why}`);
  };
  if (p.network.length === 0 || Buffer.byteLength(p.network) > Limits.NETWORK_BYTES) bad('network id must be 1..32 bytes');
  if (!Number.isInteger(k) || !Number.isInteger(q) || k < 1 || q < 1 || q > k || k > 255) bad(`k=${k} q=${q}`);
  // protocol.md §3: 2q <= k would let two disjoint quorums certify two transfers for one seq.
  if (2 * q <= k) bad(`2q <= k (k=${k} q=${q})`);
  const members = sortMembers(p.members);
  if (members.length === 0) bad('epoch 0 needs at least one member');
  for (const m of members) if (m.length !== 32) bad('node ids are 32 bytes');
  const supplyCap = p.supplyCap ?? null;
  if (supplyCap !== null && supplyCap < 0n) bad('supplyCap must be >= 0');
  const epoch0: EpochRecord = sign(EpochCodec, p.network, p.mint, {
    network: p.network,
    epoch: 0,
    members,
    k,
    q,
    prev: ZERO32,
    issuedAt: p.issuedAt,
  });
  return {
    network: p.network,
    mintKey: p.mint.publicKey,
    decimals: p.decimals ?? 6,
    symbol: p.symbol ?? 'RMT',
    supplyCap,
    reputation: { ...DEFAULT_REPUTATION, ...(p.reputation ?? {}) },
    admission: p.admission ?? 'open',
    epoch0,
  };
}
