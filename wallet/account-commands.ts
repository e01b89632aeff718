// Commands about wallets and accounts: new, import, export, list, address,
// balance, history (signed and received, wallet/history.ts) and receipt.
import { readFileSync } from 'node:fs';
import { isAddress } from '../protocol/address.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { Rejection } from '../protocol/errors.ts';
import type { Genesis } from '../protocol/genesis.ts';
import { bundleFromHex } from '../protocol/json.ts';
import { generateKeyPair } from '../protocol/signature.ts';
import { CliError, printFields, printJson, warn } from '../runtime/cli-output.ts';
import { showCoins } from './amount.ts';
import { NodeClient } from './client.ts';
import { genesisFor, keystoreOf, online, type CommonOptions } from './context.ts';
import { formatHistory, mergeHistory, type NodeHistory } from './history.ts';
import { checkWalletName } from './keystore.ts';
import { openTransfers } from './ledger.ts';
import { finishOpen } from './transfer-commands.ts';
import { findEndpoints, loadGenesisFile } from './network.ts';
import { passphrase, progress, secretKeyInput } from './prompt.ts';
import { verifyBundle } from './verify.ts';

function created(name: string, address: string, o: CommonOptions, verb: string): void {
  if (o.json) printJson({ name, address });
  else printFields([[verb, name], ['address', address]]);
}

export async function newCommand(name: string, o: CommonOptions): Promise<void> {
  const ks = keystoreOf(o);
  if (ks.exists(name)) throw new CliError('BAD_REQUEST', `wallet "${name}" already exists in ${ks.dir}`);
  const pass = await passphrase(name, true);
  const { secretKey } = generateKeyPair();
  const w = ks.create(name, secretKey, pass);
  created(name, w.address, o, 'created');
}

export async function importCommand(name: string, o: CommonOptions): Promise<void> {
  const ks = keystoreOf(o);
  checkWalletName(name);
  if (ks.exists(name)) throw new CliError('BAD_REQUEST', `wallet "${name}" already exists in ${ks.dir}`);
  const hex = (await secretKeyInput()).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new CliError('BAD_REQUEST', 'a secret key is 64 hex digits (as printed by "ringmint wallet export")');
  const pass = await passphrase(name, true);
  const w = ks.create(name, fromHex(hex), pass);
  created(name, w.address, o, 'imported');
}

export async function exportCommand(name: string, o: CommonOptions): Promise<void> {
  const ks = keystoreOf(o);
  ks.read(name);
  const w = ks.unlock(name, await passphrase(name));
  warn('this is the secret key of the wallet: anyone who has it can spend its coins. Keep it offline.');
  if (o.json) printJson({ name, address: w.address, secretKey: toHex(w.secretKey) });
  else process.stdout.write(toHex(w.secretKey) + '\n');
}

export async function listCommand(o: CommonOptions): Promise<void> {
  const ks = keystoreOf(o);
  let wallets: { name: string; address: string }[];
  try {
    wallets = ks.list();
  } catch (e) {
    if (e instanceof CliError) throw new CliError(e.code, `${e.message} (in ${ks.dir})`);
    throw e;
  }
  if (o.json) return printJson({ dir: ks.dir, wallets });
  if (wallets.length === 0) process.stdout.write(`no wallets in ${ks.dir}; create one with: ringmint wallet new NAME\n`);
  else printFields(wallets.map((w) => [w.name, w.address] as const));
}

export async function addressCommand(name: string, o: CommonOptions): Promise<void> {
  const w = keystoreOf(o).read(name);
  if (o.json) printJson({ name, address: w.address });
  else process.stdout.write(w.address + '\n');
}

/** A wallet name or an rm1 address. */
function addressOf(nameOrAddress: string, o: CommonOptions): string {
  if (nameOrAddress.startsWith('rm1') && isAddress(nameOrAddress)) return nameOrAddress;
  return keystoreOf(o).read(nameOrAddress).address;
}

export async function balanceCommand(nameOrAddress: string, o: CommonOptions): Promise<void> {
  const address = addressOf(nameOrAddress, o);
  const on = online(o);
  if (address !== nameOrAddress) await finishOpen(keystoreOf(o), nameOrAddress, on, Boolean(o.json));
  const a = await on.client.request('GET', `/accounts/${address}`);
  let body: Record<string, unknown> = { balance: '0', seq: 0, frozen: false };
  if (a.status < 400) body = a.body;
  else if (a.status !== 404) throw new CliError(String(a.body.error ?? `HTTP_${a.status}`), String(a.body.message ?? 'account lookup failed'));
  const balance = BigInt(String(body.balance ?? '0'));
  if (o.json) return printJson({ address, balance: balance.toString(), seq: Number(body.seq ?? 0), frozen: body.frozen === true });
  const { genesis } = await genesisFor(on, true);
  printFields([
    ['address', address],
    ['balance', showCoins(balance, genesis.decimals, genesis.symbol)],
    ['seq', String(body.seq ?? 0)],
    ...(body.frozen === true ? [['frozen', 'yes: a double spend was proven; it can receive but not send'] as const] : []),
  ]);
}

export async function historyCommand(name: string, o: CommonOptions & { offline?: boolean }): Promise<void> {
  const ks = keystoreOf(o);
  let w = ks.read(name);
  let genesis: Genesis | undefined;
  let fromNode: NodeHistory | undefined;
  if (!o.offline) {
    const ep = findEndpoints(o);
    if (ep.genesisPath) genesis = loadGenesisFile(ep.genesisPath);
    const client = ep.nodes.length > 0 ? new NodeClient(ep.nodes, 5_000) : undefined;
    if (client) {
      // Statuses only from evidence checked here: the wallet finishes its open transfers first.
      await finishOpen(ks, name, { endpoints: ep, client }, Boolean(o.json));
      w = ks.read(name);
    }
    if (client) {
      try {
        const a = await client.request('GET', `/accounts/${w.address}/history`);
        if (a.status === 200 && Array.isArray(a.body.credits) && Array.isArray(a.body.debits)) fromNode = a.body as unknown as NodeHistory;
        else warn(`incoming transfers not shown: the node answered ${String(a.body.error ?? `HTTP ${a.status}`)}`);
      } catch {
        warn('incoming transfers not shown: no node answered');
      }
    }
  }
  const entries = mergeHistory(w.state.transfers, fromNode);
  if (o.json) {
    const rows = [...w.state.transfers].sort((a, b) => a.transfer.seq - b.transfer.seq || a.signedAt.localeCompare(b.signedAt));
    return printJson({
      name,
      address: w.address,
      nextSeq: w.state.nextSeq,
      // The seq chain of each network used since transfers were bound, by genesis id.
      chains: w.state.chains ?? {},
      // What this wallet signed, oldest first (kept for scripts written before `entries`).
      transfers: rows.map((t) => ({
        transferId: t.transfer.id, seq: t.transfer.seq, to: t.transfer.to, amount: t.transfer.amount, memo: t.transfer.memo,
        status: t.status, ...(t.reason ? { reason: t.reason } : {}), signedAt: t.signedAt,
      })),
      entries,
    });
  }
  if (entries.length === 0) return void process.stdout.write(`no transfers to or from ${name} yet\n`);
  for (const line of formatHistory(entries, genesis)) process.stdout.write(line + '\n');
  const open = openTransfers(w.state).length;
  if (open > 0) process.stdout.write(`${open} not stored yet: every command resubmits them as they are; "ringmint wallet sync ${name}" finishes them now\n`);
}

/** The bundle's hex: from --bundle FILE (hex, or JSON with a "bundle" field) or from a node. */
function readBundleFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  } catch (e) {
    throw new CliError('BAD_REQUEST', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.startsWith('{')) {
    try {
      const j = JSON.parse(text) as { bundle?: unknown };
      if (typeof j.bundle === 'string') return j.bundle;
    } catch {
      // fall through to the one error line below
    }
    throw new CliError('MALFORMED', `${file}: expected the hex of a bundle, or JSON {"bundle": hex}`);
  }
  return text;
}

export async function receiptCommand(id: string, o: CommonOptions & { verify?: boolean; bundle?: string }): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new CliError('BAD_REQUEST', `"${id}" is not a transfer id (64 lowercase hex digits)`);
  const ep = findEndpoints(o);
  const client = ep.nodes.length > 0 ? new NodeClient(ep.nodes) : undefined;
  let hex: string;
  if (o.bundle) hex = readBundleFile(o.bundle);
  else {
    if (!client) new NodeClient([]); // throws the "no node" line
    const a = await client!.request('GET', `/receipts/${id}`);
    if (a.status === 404) throw new CliError('NOT_FOUND', `no receipt for ${id} yet: a receipt bundle is stored once the transfer is credited`);
    if (a.status >= 400 || typeof a.body.bundle !== 'string') throw new CliError(String(a.body.error ?? `HTTP_${a.status}`), String(a.body.message ?? 'no bundle in the answer'));
    hex = a.body.bundle;
  }
  let genesis: Genesis;
  if (ep.genesisPath) genesis = loadGenesisFile(ep.genesisPath);
  else if (client) genesis = (await genesisFor({ endpoints: ep, client }, Boolean(o.json))).genesis;
  else throw new CliError('BAD_REQUEST', 'no genesis file: give --genesis FILE, set RINGMINT_GENESIS, or run next to a devnet');

  if (!o.verify) {
    let b;
    try {
      b = bundleFromHex(hex, genesis.network);
    } catch (e) {
      throw new CliError((e as Rejection).code ?? 'MALFORMED', `the bundle does not decode: ${(e as Error).message}`);
    }
    if (o.json) return printJson({ transferId: id, bundle: hex });
    const t = b.certificate.transfer;
    return printFields([
      ['transfer', id],
      ['amount', showCoins(t.amount, genesis.decimals, genesis.symbol)],
      ['votes', String(b.certificate.votes.length)],
      ['receipts', String(b.receipts.length)],
      ['verify', `ringmint wallet receipt ${id} --verify`],
    ]);
  }

  const sources = [...ep.nodes, ...(ep.mint ? [ep.mint] : [])];
  const epochClient = sources.length > 0 ? new NodeClient(sources, 10_000) : undefined;
  const spin = progress('verifying the receipt bundle', o.json);
  const r = await verifyBundle(hex, genesis, async (n) => {
    if (!epochClient) throw new Error('no node to fetch epoch records from');
    spin.update(`fetching epoch ${n}`);
    const body = await epochClient.call('GET', `/epochs/${n}`);
    if (typeof body.record !== 'string') throw new Error('the answer has no record');
    return body.record;
  }, id);
  if (!r.valid) {
    spin.fail();
    throw new CliError(r.error, `receipt ${id} is NOT valid: ${r.message}`, { valid: false, transferId: id });
  }
  spin.done();
  if (o.json) return printJson(r);
  printFields([
    ['valid', `yes: certified by ${r.votes} votes and credited by ${r.receipts} receipts (epochs ${r.epochs.join(', ')})`],
    ['transfer', r.transferId],
    ['amount', showCoins(BigInt(r.amount), genesis.decimals, genesis.symbol)],
    ['from', r.from],
    ['to', r.to],
    ['seq', String(r.seq)],
    ...(r.memo ? [['memo', r.memo] as const] : []),
  ]);
}

