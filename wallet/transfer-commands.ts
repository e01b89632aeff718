// Commands that move coins: send (sign + submit + wait), sign (offline) and submit.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeAddress } from '../protocol/address.ts';
import { transferToJson, type TransferJson } from '../protocol/json.ts';
import { sign, TransferCodec } from '../protocol/objects.ts';
import { fromHex } from '../protocol/bytes.ts';
import { nativeSigner } from '../protocol/signature.ts';
import type { Genesis } from '../protocol/genesis.ts';
import { CliError, printFields, printJson, warn } from '../runtime/cli-output.ts';
import { parseCoins, showCoins } from './amount.ts';
import type { NodeClient } from './client.ts';
import {
  genesisFor, keystoreOf, online, parseAddressArg, parseMemo, parseSeqOption, parseTimeout, parseWait, WAIT_RANK,
  type CommonOptions, type Wait,
} from './context.ts';
import { SETTLED, type Keystore, type UnlockedWallet } from './keystore.ts';
import { planSeq, recordSigned, unsettled, type AccountHead } from './ledger.ts';
import { loadGenesisFile, localGenesisPath } from './network.ts';
import { passphrase, progress, type Progress } from './prompt.ts';

/** Between status polls: quick enough to feel live, slow enough not to load a gateway. */
const POLL_MS = 250;
/** A gateway holds a ?wait request at most this long; the wallet polls after that. */
const SERVER_WAIT_MS = 30_000;
const DEFAULT_TIMEOUT_S = 60;

export type TransferOptions = CommonOptions & {
  to?: string;
  amount?: string;
  memo?: string;
  seq?: string;
  prev?: string;
  wait?: string;
  timeout?: string;
};

type Outcome = { status: string; reason?: string; detail?: string };

/** Posts a signed transfer (idempotent by id) and follows it until `wait` is met, it fails, or time runs out. */
export async function submitAndWait(client: NodeClient, t: TransferJson, wait: Wait, timeoutMs: number, spin: Progress): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  const serverWait = Math.max(1, Math.min(SERVER_WAIT_MS, timeoutMs));
  // 'pending' means: hand it over and do not wait (the API's ?wait knows only later statuses)
  const query = wait === 'pending' ? '' : `?wait=${wait}&timeoutMs=${serverWait}`;
  const a = await client.request('POST', `/transfers${query}`, { transfer: t }, serverWait + 5_000);
  if (a.status >= 400) {
    const reason = typeof a.body.error === 'string' ? a.body.error : `HTTP_${a.status}`;
    const detail = typeof a.body.message === 'string' ? a.body.message : undefined;
    return { status: a.status === 409 || reason === 'CONFLICT' ? 'conflict' : 'rejected', reason, detail };
  }
  let o: Outcome = { status: String(a.body.status ?? 'pending') };
  while ((WAIT_RANK[o.status] ?? 99) < WAIT_RANK[wait]! && Date.now() < deadline) {
    spin.update(`transfer ${t.id.slice(0, 12)}… ${o.status}, waiting for ${wait}`);
    await sleep(POLL_MS);
    const g = await client.request('GET', `/transfers/${t.id}`);
    if (g.status === 200) {
      o = { status: String(g.body.status), reason: g.body.reason as string | undefined, detail: g.body.detail as string | undefined };
    }
  }
  return o;
}

function statusMap(id: string, o: Outcome): Map<string, { status: string; reason?: string }> {
  return new Map([[id, { status: o.status, ...(o.reason ? { reason: o.reason } : {}) }]]);
}

function failureOf(t: TransferJson, o: Outcome, wait: Wait, timeoutMs: number): CliError | undefined {
  const details = { transferId: t.id, status: o.status, seq: t.seq };
  if (o.status === 'conflict') {
    return new CliError('CONFLICT', `transfer ${t.id} conflicts with another transfer at seq ${t.seq}: the account is reported as a double spender`, details);
  }
  if (o.status === 'rejected') {
    return new CliError(o.reason ?? 'REJECTED', `transfer ${t.id} was rejected: ${o.detail ?? o.reason}`, { ...details, reason: o.reason });
  }
  if ((WAIT_RANK[o.status] ?? -1) < WAIT_RANK[wait]!) {
    return new CliError(
      'TIMEOUT',
      `transfer ${t.id} is ${o.status}, not ${wait}, after ${Math.round(timeoutMs / 1000)} s; it stays in the wallet and the next send resubmits it as is`,
      details,
    );
  }
  return undefined;
}

/** Resubmits, as signed, every transfer that still holds a seq; fails if one cannot settle. */
async function settlePending(ks: Keystore, w: UnlockedWallet, client: NodeClient, timeoutMs: number, spin: Progress): Promise<void> {
  for (const p of unsettled(w.state)) {
    const t = p.transfer;
    if (p.status === 'conflict') {
      throw new CliError('CONFLICT', `transfer ${t.id} (seq ${t.seq}) met a conflicting transfer; the account is likely frozen. Nothing was signed`);
    }
    spin.update(`resubmitting seq ${t.seq} (${t.id.slice(0, 12)}…), signed earlier`);
    const o = await submitAndWait(client, t, 'final', timeoutMs, spin);
    ks.updateStatuses(w.name, statusMap(t.id, o));
    p.status = o.status;
    if (!SETTLED.has(o.status)) {
      const why = o.status === 'rejected' ? `rejected (${o.reason}: ${o.detail ?? ''})` : o.status;
      throw new CliError(
        o.status === 'rejected' ? (o.reason ?? 'REJECTED') : 'PENDING',
        `earlier transfer ${t.id} (seq ${t.seq}) is ${why}; it holds seq ${t.seq} and was resubmitted as is. Try again later, or sign over it with --seq ${t.seq} (risky)`,
        { transferId: t.id, status: o.status, seq: t.seq },
      );
    }
  }
}

async function accountHead(client: NodeClient, address: string): Promise<AccountHead & { balance: bigint; frozen: boolean }> {
  const a = await client.request('GET', `/accounts/${address}`);
  if (a.status === 404) return { seq: 0, head: null, balance: 0n, frozen: false };
  if (a.status >= 400) throw new CliError(String(a.body.error ?? `HTTP_${a.status}`), String(a.body.message ?? 'account lookup failed'));
  return {
    seq: Number(a.body.seq ?? 0),
    head: typeof a.body.head === 'string' ? a.body.head : null,
    balance: BigInt(String(a.body.balance ?? '0')),
    frozen: a.body.frozen === true,
  };
}

function signTransfer(w: UnlockedWallet, genesis: Genesis, to: Uint8Array, amount: bigint, memo: Uint8Array, seq: number, prev: string): TransferJson {
  const signer = nativeSigner(w.secretKey);
  const t = sign(TransferCodec, genesis.network, signer, { from: signer.publicKey, to, amount, seq, prev: fromHex(prev), memo });
  return transferToJson(t);
}

export async function sendCommand(name: string, o: TransferOptions): Promise<void> {
  const ks = keystoreOf(o);
  const pub = ks.read(name);
  const to = parseAddressArg(o.to, '--to');
  if (encodeAddress(to) === pub.address) throw new CliError('SELF_TRANSFER', 'a wallet cannot send to its own address');
  const memo = parseMemo(o.memo);
  const seq = parseSeqOption(o.seq);
  const wait = parseWait(o.wait, 'final');
  const timeoutMs = parseTimeout(o.timeout, DEFAULT_TIMEOUT_S);
  if (o.amount === undefined) throw new CliError('BAD_AMOUNT', '--amount is required');
  const on = online(o);
  const { genesis } = await genesisFor(on);
  const amount = parseCoins(o.amount, genesis.decimals, genesis.symbol);
  const pass = await passphrase(name);
  await ks.withLock(name, async () => {
    const w = ks.unlock(name, pass);
    const spin = progress(`sending ${showCoins(amount, genesis.decimals, genesis.symbol)}`, o.json);
    try {
      if (seq === undefined) await settlePending(ks, w, on.client, timeoutMs, spin);
      const acct = await accountHead(on.client, w.address);
      if (acct.frozen) throw new CliError('FROZEN', `account ${w.address} is frozen (a double spend was proven); it can receive but not send`);
      if (acct.balance < amount) {
        throw new CliError(
          'INSUFFICIENT_FUNDS',
          `balance ${showCoins(acct.balance, genesis.decimals, genesis.symbol)} does not cover ${showCoins(amount, genesis.decimals, genesis.symbol)}; nothing was signed`,
        );
      }
      const plan = planSeq(w.state, { seq, prev: o.prev, account: acct });
      for (const m of plan.warnings) warn(m);
      const t = signTransfer(w, genesis, to, amount, memo, plan.seq, plan.prev);
      // The ledger is durable before the transfer leaves: a crash now resubmits the same transfer, never a new one.
      ks.saveLedger(w, recordSigned(w.state, t, new Date().toISOString()));
      spin.update(`transfer ${t.id.slice(0, 12)}… submitted`);
      const out = await submitAndWait(on.client, t, wait, timeoutMs, spin);
      ks.updateStatuses(name, statusMap(t.id, out));
      const failure = failureOf(t, out, wait, timeoutMs);
      if (failure) throw failure;
      spin.done();
      if (o.json) printJson({ transferId: t.id, status: out.status, seq: t.seq, from: t.from, to: t.to, amount: t.amount, memo: t.memo });
      else {
        printFields([
          ['sent', `${showCoins(amount, genesis.decimals, genesis.symbol)} to ${t.to}`],
          ['transfer', t.id],
          ['seq', String(t.seq)],
          ['status', out.status],
        ]);
      }
    } catch (e) {
      spin.fail();
      throw e;
    }
  });
}

export async function signCommand(name: string, o: TransferOptions): Promise<void> {
  const ks = keystoreOf(o);
  ks.read(name);
  const to = parseAddressArg(o.to, '--to');
  const memo = parseMemo(o.memo);
  const seq = parseSeqOption(o.seq);
  if (o.amount === undefined) throw new CliError('BAD_AMOUNT', '--amount is required');
  const genesis = loadGenesisFile(localGenesisPath(o));
  const amount = parseCoins(o.amount, genesis.decimals, genesis.symbol);
  const pass = await passphrase(name);
  await ks.withLock(name, async () => {
    const w = ks.unlock(name, pass);
    if (encodeAddress(to) === w.address) throw new CliError('SELF_TRANSFER', 'a wallet cannot send to its own address');
    const plan = planSeq(w.state, { seq, prev: o.prev });
    for (const m of plan.warnings) warn(m);
    const t = signTransfer(w, genesis, to, amount, memo, plan.seq, plan.prev);
    ks.saveLedger(w, recordSigned(w.state, t, new Date().toISOString()));
    if (!o.json) process.stderr.write(`signed seq ${t.seq} (${showCoins(amount, genesis.decimals, genesis.symbol)}); submit it with: ringmint wallet submit FILE\n`);
    printJson(t);
  });
}

function readTransferFile(file: string): TransferJson {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new CliError('BAD_REQUEST', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text.trim().split('\n').pop() ?? '');
  } catch {
    throw new CliError('MALFORMED', `${file} does not hold a transfer as JSON (the output of "ringmint wallet sign")`);
  }
  const t = ((j as { transfer?: unknown })?.transfer ?? j) as TransferJson;
  if (!t || typeof t !== 'object' || typeof t.id !== 'string' || typeof t.from !== 'string' || typeof t.sig !== 'string') {
    throw new CliError('MALFORMED', `${file} does not hold a signed transfer: it needs id, from, to, amount, seq, prev, memo and sig`);
  }
  parseAddressArg(t.from, 'from');
  parseAddressArg(t.to, 'to');
  return t;
}

export async function submitCommand(file: string, o: TransferOptions): Promise<void> {
  const t = readTransferFile(file);
  const wait = parseWait(o.wait, 'final');
  const timeoutMs = parseTimeout(o.timeout, DEFAULT_TIMEOUT_S);
  const on = online(o);
  const spin = progress(`submitting transfer ${t.id.slice(0, 12)}…`, o.json);
  let out: Outcome;
  try {
    out = await submitAndWait(on.client, t, wait, timeoutMs, spin);
  } catch (e) {
    spin.fail();
    throw e;
  }
  // A wallet here that signed it learns its status (best effort: submit needs no wallet).
  // Under the wallet's lock: an unlocked read-modify-write could undo a concurrent signer's ledger.
  const ks = keystoreOf(o);
  try {
    for (const w of ks.list()) if (w.address === t.from) await ks.withLock(w.name, async () => ks.updateStatuses(w.name, statusMap(t.id, out)));
  } catch {
    // no wallet dir, a damaged file, or the wallet busy: not this command's business
  }
  const failure = failureOf(t, out, wait, timeoutMs);
  if (failure) {
    spin.fail();
    throw failure;
  }
  spin.done();
  if (o.json) printJson({ transferId: t.id, status: out.status });
  else printFields([['transfer', t.id], ['status', out.status]]);
}
