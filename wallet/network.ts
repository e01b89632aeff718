// Finding the network: which nodes to talk to, and which genesis file to trust.
// Precedence for nodes: --node URL > RINGMINT_NODE > --devnet DIR > ./devnet/devnet.json.
// The genesis is a pinned file when one is given (--genesis FILE > RINGMINT_GENESIS),
// else the devnet's own file when the nodes come from that devnet, else the nodes'
// GET /genesis. An implicit ./devnet folder never lends its genesis to nodes named
// with --node or RINGMINT_NODE: they may be of another network. Whatever is pinned,
// the wallet checks that the node serves that same genesis before it signs or submits.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { concat, toHex, utf8 } from '../protocol/bytes.ts';
import { genesisFromJson, type Genesis } from '../protocol/genesis.ts';
import { sha256 } from '../protocol/hash.ts';
import { encodeWith, writeEpoch } from '../protocol/objects.ts';
import { Rejection } from '../protocol/errors.ts';
import { ed25519 } from '../protocol/signature.ts';
import { CliError } from '../runtime/cli-output.ts';

export type DevnetFile = {
  genesis: string;
  mint?: { api: string; token?: string; pid?: number };
  nodes: { api: string; peerId?: string; nodeId?: string; pid?: number }[];
};

export type NetworkOptions = { node?: string; devnet?: string; genesis?: string };

export type Endpoints = {
  /** Node API base URLs, in the order to try them. */
  nodes: string[];
  /** Where the nodes came from, for messages. */
  source: string;
  mint?: string;
  /** Absolute path of a local genesis file, when one is known. */
  genesisPath?: string;
};

export const DEFAULT_DEVNET = join('devnet', 'devnet.json');

/** Reads devnet.json from a devnet directory (or the file itself); relative genesis paths are relative to it. */
export function readDevnet(dirOrFile: string): DevnetFile & { path: string } {
  const path = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, 'devnet.json') : dirOrFile;
  let d: DevnetFile;
  try {
    d = JSON.parse(readFileSync(path, 'utf8')) as DevnetFile;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON';
    throw new CliError('UNAVAILABLE', `devnet file ${path}: ${why}`);
  }
  if (!d || typeof d.genesis !== 'string' || !Array.isArray(d.nodes) || d.nodes.some((n) => typeof n?.api !== 'string')) {
    throw new CliError('MALFORMED', `devnet file ${path} lacks "genesis" or "nodes[].api"`);
  }
  const genesis = isAbsolute(d.genesis) ? d.genesis : resolve(dirname(path), d.genesis);
  return { ...d, genesis: existsSync(genesis) ? genesis : resolve(d.genesis), path };
}

function splitUrls(s: string): string[] {
  return s.split(',').map((u) => u.trim().replace(/\/+$/, '')).filter((u) => u.length > 0);
}

/** Starts at a random node so wallets spread over gateways; the rest follow as fallbacks. */
function rotate<T>(xs: T[], start: number): T[] {
  return xs.length === 0 ? xs : [...xs.slice(start % xs.length), ...xs.slice(0, start % xs.length)];
}

export function findEndpoints(
  opts: NetworkOptions,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  pick: (n: number) => number = (n) => Math.floor(Math.random() * n),
): Endpoints {
  const devnetPath = opts.devnet ?? (existsSync(join(cwd, DEFAULT_DEVNET)) ? join(cwd, DEFAULT_DEVNET) : undefined);
  let devnet: ReturnType<typeof readDevnet> | undefined;
  try {
    devnet = devnetPath !== undefined ? readDevnet(resolve(cwd, devnetPath)) : undefined;
  } catch (e) {
    // a broken ./devnet is only an error when it is the devnet asked for or the only way to a node
    if (opts.devnet !== undefined || !(opts.node || env.RINGMINT_NODE)) throw e;
  }
  // An explicit --devnet DIR pins its genesis; an implicit ./devnet only serves its own nodes.
  const pinned = opts.genesis ? resolve(cwd, opts.genesis) : env.RINGMINT_GENESIS ? resolve(cwd, env.RINGMINT_GENESIS) : opts.devnet !== undefined ? devnet?.genesis : undefined;
  if (opts.node) return { nodes: splitUrls(opts.node), source: '--node', genesisPath: pinned };
  if (env.RINGMINT_NODE) return { nodes: splitUrls(env.RINGMINT_NODE), source: 'RINGMINT_NODE', genesisPath: pinned };
  const base = { mint: devnet?.mint?.api, genesisPath: pinned ?? devnet?.genesis };
  if (devnet) {
    const urls = devnet.nodes.map((n) => n.api.replace(/\/+$/, ''));
    return { ...base, nodes: rotate(urls, pick(urls.length)), source: devnet.path };
  }
  return { ...base, nodes: [], source: 'none' };
}

/** Only a local genesis file: for offline commands (sign, receipt --verify --bundle). */
export function localGenesisPath(opts: NetworkOptions, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  if (opts.genesis) return resolve(cwd, opts.genesis);
  if (env.RINGMINT_GENESIS) return resolve(cwd, env.RINGMINT_GENESIS);
  const e = findEndpoints({ devnet: opts.devnet }, {}, cwd);
  if (e.genesisPath) return e.genesisPath;
  throw new CliError('BAD_REQUEST', 'no genesis file: give --genesis FILE, set RINGMINT_GENESIS, or run next to a devnet (--devnet DIR)');
}

/**
 * A network's identity for the wallet: SHA-256 over the network name, the mint key and
 * the signed epoch 0. Two devnets of one name have different ids (fresh mint keys).
 */
export function genesisId(g: Genesis): string {
  return toHex(sha256(concat(utf8(g.network), utf8('|'), g.mintKey, encodeWith(g.epoch0, writeEpoch))));
}

export function parseGenesis(json: unknown, where: string): Genesis {
  try {
    return genesisFromJson(json, ed25519);
  } catch (e) {
    if (e instanceof Rejection) throw new CliError(e.code, `genesis from ${where}: ${e.message}`);
    throw new CliError('MALFORMED', `genesis from ${where}: ${(e as Error).message}`);
  }
}

export function loadGenesisFile(path: string): Genesis {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON';
    throw new CliError('BAD_REQUEST', `genesis file ${path}: ${why}`);
  }
  return parseGenesis(json, path);
}
