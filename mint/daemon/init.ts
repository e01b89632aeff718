// `ringmint mint init`: the mint key, the genesis file (epoch 0 signed by the mint)
// and the operator token, in the mint's data dir.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import { genesisToJson, type AdmissionPolicy, type Genesis } from '../../protocol/genesis.ts';
import { ed25519, generateKeyPair } from '../../protocol/signature.ts';
import { createGenesis } from '../core/genesis-create.ts';
import { MINT_KEY_FILE, parseNodeRef, writeKeyFile } from '../../runtime/keys.ts';
import { loadOrCreateToken } from '../../runtime/http-common.ts';
import { GENESIS_FILE } from '../../runtime/genesis-file.ts';

export type MintInitParams = {
  data: string;
  network: string;
  k: number;
  q: number;
  decimals: number;
  symbol: string;
  /** In base units; null for no cap. */
  supplyCap: bigint | null;
  admission: AdmissionPolicy;
  /** Node ids of epoch 0. */
  members: Bytes[];
};

/** Reads node ids (hex or PeerId), one a line or a JSON array; # starts a comment. */
export function readNodesFile(path: string): Bytes[] {
  const text = readFileSync(path, 'utf8');
  const refs = text.trim().startsWith('[') ? (JSON.parse(text) as string[]) : text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.length > 0);
  return refs.map((r) => parseNodeRef(String(r)));
}

export function mintInit(p: MintInitParams): { genesis: Genesis; genesisPath: string; token: string } {
  const dir = resolve(p.data);
  mkdirSync(dir, { recursive: true });
  if (existsSync(join(dir, MINT_KEY_FILE))) throw new Rejection(Reason.BAD_REQUEST, `${dir} already holds a mint key; refusing to overwrite it`);
  if (p.members.length === 0) throw new Rejection(Reason.BAD_REQUEST, 'epoch 0 needs members: pass --nodes FILE with node ids (or use `ringmint devnet`)');
  const kp = generateKeyPair();
  const genesis = createGenesis({
    network: p.network,
    mint: ed25519.signer(kp.secretKey),
    members: p.members,
    k: p.k,
    q: p.q,
    decimals: p.decimals,
    symbol: p.symbol,
    supplyCap: p.supplyCap,
    admission: p.admission,
    issuedAt: Date.now(),
  });
  writeKeyFile(join(dir, MINT_KEY_FILE), kp);
  const genesisPath = join(dir, GENESIS_FILE);
  writeFileSync(genesisPath, JSON.stringify(genesisToJson(genesis), null, 2) + '\n');
  const token = loadOrCreateToken(dir);
  return { genesis, genesisPath, token };
}

export { formatCoins, parseCoins } from '../../protocol/amounts.ts';
