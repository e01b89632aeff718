// What most wallet commands share: the options, the keystore, the node client,
// the genesis, and parsing of addresses and memos into one clear line on error.
import { decodeAddress } from '../protocol/address.ts';
import { utf8 } from '../protocol/bytes.ts';
import type { Genesis } from '../protocol/genesis.ts';
import { Limits } from '../protocol/objects.ts';
import { CliError, warn } from '../runtime/cli-output.ts';
import { NodeClient } from './client.ts';
import { Keystore } from './keystore.ts';
import { findEndpoints, genesisId, loadGenesisFile, parseGenesis, type Endpoints, type NetworkOptions } from './network.ts';
import { STATUS_RANK } from '../protocol/wait-levels.ts';

export type CommonOptions = NetworkOptions & { walletDir?: string; json?: boolean };

export function keystoreOf(o: CommonOptions): Keystore {
  return new Keystore(o.walletDir);
}

export type Online = { endpoints: Endpoints; client: NodeClient };

export function online(o: CommonOptions): Online {
  const endpoints = findEndpoints(o);
  return { endpoints, client: new NodeClient(endpoints.nodes) };
}

/**
 * The network: a pinned genesis file when there is one, else the node's own, with a
 * note that it was not pinned. With `check`, the node must serve the pinned genesis
 * too: a wallet signs and submits only to nodes of the network it means.
 */
export async function genesisFor(on: Online, quietNote = false, check = false): Promise<{ genesis: Genesis; pinned: boolean; id: string }> {
  if (on.endpoints.genesisPath) {
    const genesis = loadGenesisFile(on.endpoints.genesisPath);
    const id = genesisId(genesis);
    if (check) {
      const served = parseGenesis(await on.client.call('GET', '/genesis'), on.client.url);
      if (genesisId(served) !== id) {
        throw new CliError(
          'WRONG_NETWORK',
          `${on.client.url} serves network "${served.network}" (genesis ${genesisId(served).slice(0, 12)}…), not the pinned "${genesis.network}" (genesis ${id.slice(0, 12)}…) of ${on.endpoints.genesisPath}; nothing was sent`,
        );
      }
    }
    return { genesis, pinned: true, id };
  }
  const body = await on.client.call('GET', '/genesis');
  if (!quietNote) warn(`using the genesis served by ${on.client.url}; pin one with --genesis FILE`);
  const genesis = parseGenesis(body, on.client.url);
  return { genesis, pinned: false, id: genesisId(genesis) };
}

export function parseAddressArg(s: string | undefined, option: string): Uint8Array {
  if (s === undefined || s === '') throw new CliError('BAD_REQUEST', `${option} ADDRESS is required`);
  try {
    return decodeAddress(s.trim());
  } catch (e) {
    throw new CliError('MALFORMED', `${option}: "${s}" is not a valid rm1... address (${(e as Error).message.replace(/^not a valid address: /, '')})`);
  }
}

export function parseMemo(memo: string | undefined): Uint8Array {
  const bytes = utf8(memo ?? '');
  if (bytes.length > Limits.MEMO_BYTES) throw new CliError('BAD_MEMO', `--memo is ${bytes.length} bytes; at most ${Limits.MEMO_BYTES} are allowed`);
  return bytes;
}

export function parseSeqOption(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(s) || Number(s) < 1) throw new CliError('BAD_REQUEST', `--seq must be a positive integer, got "${s}"`);
  return Number(s);
}

/** Statuses in the order a transfer reaches them. */
/** The protocol's ranking (protocol/wait-levels.ts), plus the wallet's own first step: signed, not yet taken by a node. */
export const WAIT_RANK: Record<string, number> = { signed: -1, ...STATUS_RANK };
export const WAITS = Object.keys(STATUS_RANK) as (keyof typeof STATUS_RANK)[];
export type Wait = (typeof WAITS)[number];

export function parseWait(s: string | undefined, dflt: Wait): Wait {
  const w = (s ?? dflt) as Wait;
  if (!WAITS.includes(w)) throw new CliError('BAD_REQUEST', `--wait must be one of ${WAITS.join(', ')}, got "${s}"`);
  return w;
}

export function parseTimeout(s: string | undefined, dfltSeconds: number): number {
  if (s === undefined) return dfltSeconds * 1000;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(s) || Number(s) <= 0) throw new CliError('BAD_REQUEST', `--timeout must be a positive number of seconds, got "${s}"`);
  return Math.round(Number(s) * 1000);
}
