// The daemon's Ed25519 key: one key is the node id (32-byte public key), the libp2p
// PeerId and the signer of votes and receipts (protocol.md §2). Kept in the data dir, mode 0600.
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { fromHex, toHex, type Bytes } from '../protocol/bytes.ts';
import { generateKeyPair, publicKeyOf, type KeyPair } from '../protocol/signature.ts';
import { Reason, Rejection } from '../protocol/errors.ts';

export const NODE_KEY_FILE = 'node-key.json';
export const MINT_KEY_FILE = 'mint-key.json';

type KeyFile = { type: 'ed25519'; secretKey: string; publicKey: string };

export function writeKeyFile(path: string, kp: KeyPair): void {
  const body: KeyFile = { type: 'ed25519', secretKey: toHex(kp.secretKey), publicKey: toHex(kp.publicKey) };
  writeFileSync(path, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function readKeyFile(path: string): KeyPair {
  let o: Partial<KeyFile>;
  try {
    o = JSON.parse(readFileSync(path, 'utf8')) as Partial<KeyFile>;
  } catch (e) {
    throw new Rejection(Reason.BAD_REQUEST, `cannot read key file ${path}: ${(e as Error).message}`);
  }
  if (typeof o.secretKey !== 'string' || !/^[0-9a-f]{64}$/.test(o.secretKey)) throw new Rejection(Reason.BAD_REQUEST, `key file ${path}: bad secretKey`);
  const secretKey = fromHex(o.secretKey);
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

/** The key in `dir/file`, made on first use. */
export function loadOrCreateKey(dir: string, file = NODE_KEY_FILE): KeyPair {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  if (existsSync(path)) return readKeyFile(path);
  const kp = generateKeyPair();
  writeKeyFile(path, kp);
  return kp;
}

export async function libp2pKey(secretKey: Bytes): Promise<PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', secretKey);
}

export function peerIdOfNode(nodeId: Bytes): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(nodeId));
}

export function nodeIdOfPeer(peer: PeerId): Bytes | null {
  if (peer.type !== 'Ed25519' || peer.publicKey === undefined) return null;
  return peer.publicKey.raw;
}

/** Accepts a node id (64 hex) or a PeerId string; returns the node id. */
export function parseNodeRef(ref: string): Bytes {
  if (/^[0-9a-f]{64}$/.test(ref)) return fromHex(ref);
  try {
    const id = nodeIdOfPeer(peerIdFromString(ref));
    if (id) return id;
  } catch {
    // fall through
  }
  throw new Rejection(Reason.BAD_REQUEST, `not a node id or Ed25519 PeerId: ${ref}`);
}
