// A small network built in memory with real Ed25519 keys: a genesis (epoch 0),
// an optional epoch 1, and receipt bundles signed by the right custodians. The
// wallet's offline checks are tested against it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import { DEFAULT_REPUTATION, genesisToJson, type Genesis } from '../../protocol/genesis.ts';
import { epochHash, EpochCodec, ReceiptCodec, sign, transferId, TransferCodec, VoteCodec, type Bundle, type EpochRecord, type Transfer } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';
import { nativeSigner, type Signer } from '../../protocol/signature.ts';

export const NETWORK = 'wallet-test';

function seeded(tag: string, i: number): Signer {
  const sk = new Uint8Array(32);
  sk.set(new TextEncoder().encode(`${tag}-${i}`.padEnd(32, '.')).subarray(0, 32));
  return nativeSigner(sk);
}

export type Net = {
  genesis: Genesis;
  genesisPath: string;
  mint: Signer;
  nodes: Map<string, Signer>;
  epochs: EpochRecord[];
};

export function makeNet(nodeCount = 6, decimals = 6, network = NETWORK): Net {
  const mint = seeded(network === NETWORK ? 'mint' : `mint-${network}`, 0);
  const nodes = new Map<string, Signer>();
  for (let i = 0; i < nodeCount; i++) {
    const s = seeded('node', i);
    nodes.set(Buffer.from(s.publicKey).toString('hex'), s);
  }
  const members = [...nodes.values()].map((s) => s.publicKey).sort(compare);
  const epoch0 = sign(EpochCodec, network, mint, { network, epoch: 0, members, k: 4, q: 3, prev: ZERO32, issuedAt: 0 });
  const genesis: Genesis = {
    network, mintKey: mint.publicKey, decimals, symbol: 'RMT', supplyCap: null,
    reputation: DEFAULT_REPUTATION, admission: 'open', epoch0,
  };
  const dir = mkdtempSync(join(tmpdir(), 'rm-wallet-net-'));
  const genesisPath = join(dir, 'genesis.json');
  writeFileSync(genesisPath, JSON.stringify(genesisToJson(genesis)));
  return { genesis, genesisPath, mint, nodes, epochs: [epoch0] };
}

/** Appends an epoch signed by `signer` (the mint unless a forger is given), dropping one member. */
export function nextEpoch(net: Net, signer: Signer = net.mint, prev?: Bytes): EpochRecord {
  const last = net.epochs[net.epochs.length - 1]!;
  const members = last.members.slice(1);
  const e = sign(EpochCodec, NETWORK, signer, {
    network: NETWORK, epoch: last.epoch + 1, members, k: 4, q: 3, prev: prev ?? epochHash(last), issuedAt: 1000 * (last.epoch + 1),
  });
  net.epochs.push(e);
  return e;
}

export function signer(net: Net, node: Bytes): Signer {
  return net.nodes.get(Buffer.from(node).toString('hex'))!;
}

/** A bundle for `t` with votes and receipts of epoch `epoch` from `count` custodians each. */
export function makeBundle(net: Net, t: Transfer, epoch = 0, count = 3): Bundle {
  const ring = new Ring(net.epochs[epoch]!);
  const id = transferId(t);
  const votes = ring.custodians(t.from).slice(0, count).map((n) =>
    sign(VoteCodec, NETWORK, signer(net, n), { transferId: id, from: t.from, seq: t.seq, epoch, voter: n }),
  );
  const receipts = ring.custodians(t.to).slice(0, count).map((n) =>
    sign(ReceiptCodec, NETWORK, signer(net, n), { transferId: id, to: t.to, amount: t.amount, epoch, custodian: n }),
  );
  return { certificate: { transfer: t, votes }, receipts };
}

export function makeTransfer(from: Signer, to: Bytes, amount: bigint, seq = 1, prev: Bytes = ZERO32): Transfer {
  return sign(TransferCodec, NETWORK, from, { from: from.publicKey, to, amount, seq, prev, memo: new Uint8Array() });
}

export { seeded };
