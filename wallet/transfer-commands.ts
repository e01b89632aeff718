// Commands that move coins: send (sign + submit + wait), sign (offline) and submit.
import { readFileSync } from 'node:fs';
import { encodeAddress } from '../protocol/address.ts';
import { transferToJson, type TransferJson } from '../protocol/json.ts';
import { sign, TransferCodec } from '../protocol/objects.ts';
import { fromHex } from '../protocol/bytes.ts';
import { nativeSigner } from '../protocol/signature.ts';
import type { Genesis } from '../protocol/genesis.ts';
import { CliError, printFields, printJson, warn } from '../runtime/cli-output.ts';
import { parseCoins, showCoins } from './amount.ts';
import { NodeClient } from './client.ts';
import {
  genesisFor, keystoreOf, online, parseAddressArg, parseMemo, parseSeqOption, parseTimeout, parseWait,
  type CommonOptions, type Online, type Wait,
} from './context.ts';
import type { Keystore, UnlockedWallet } from './keystore.ts';
import { openTransfers, planSeq, recordSigned, releaseSeq, unsettled } from './ledger.ts';
import { genesisId, loadGenesisFile, localGenesisPath } from './network.ts';
import { passphrase, progress, type Progress } from './prompt.ts';
import { checkedAccount, follow, netContext, settleWallet, type Followed, type NetContext, type Repair } from './settle.ts';
import { DEFAULT_COMMAND_TIMEOUT_MS, reached } from './submission.ts';

const DEFAULT_TIMEOUT_S = DEFAULT_COMMAND_TIMEOUT_MS / 1000;

export type TransferOptions = CommonOptions & {
  to?: string;
  amount?: string;
  memo?: string;
  seq?: string;
  prev?: string;
  wait?: string;
  timeout?: string;
};

function failureOf(t: TransferJson, f: Followed, wait: Wait, timeoutMs: number, network: string): CliError | undefined {
  const details = { transferId: t.id, status: f.stage, seq: t.seq };
  if (f.stage === 'conflict') {
    return new CliError('CONFLICT', `transfer ${t.id} conflicts with another transfer at seq ${t.seq}: the account is reported as a double spender`, details);
  }
  if (f.stage === 'released') {
    return new CliError(f.reason ?? 'WRONG_NETWORK', `transfer ${t.id} can never verify on network "${network}" (${f.reason}); seq ${t.seq} was released, nothing holds it`, { ...details, reason: f.reason });
  }
  if (f.stage === 'rejected') {
    return new CliError(f.reason ?? 'REJECTED', `transfer ${t.id} was rejected (${f.reason}); it keeps seq ${t.seq} and the next command resubmits it as is`, { ...details, reason: f.reason });
  }
  if (!reached(f.stage, wait)) {
    return new CliError(
      'TIMEOUT',
      `transfer ${t.id} is ${f.stage}, not ${wait} by the evidence checked here, after ${Math.round(timeoutMs / 1000)} s; it stays in the wallet and the next command resubmits it as is`,
      details,
    );
  }
  return undefined;
}

/** Other nodes than the one `on` talks to, one client each: for cross-checking an account's head. */
function otherNodes(on: Online): NodeClient[] {
  return on.endpoints.nodes.filter((u) => u !== on.client.url).map((u) => new NodeClient([u], 10_000));
}

/** Keeps the unlocked wallet's state in step with a status saved without the passphrase. */
function recorder(ks: Keystore, w: UnlockedWallet | undefined, name: string) {
  return (id: string, f: Followed): void => {
    ks.updateStatuses(name, new Map([[id, { status: f.stage, ...(f.reason ? { reason: f.reason } : {}), ...(f.lastSubmitAt !== undefined ? { lastSubmitAt: f.lastSubmitAt } : {}) }]]));
    const e = w?.state.transfers.find((x) => x.transfer.id === id);
    if (e && e.status !== 'released' && e.status !== 'replaced') {
      e.status = f.stage;
      if (f.reason) e.reason = f.reason;
      if (f.lastSubmitAt !== undefined) e.lastSubmitAt = f.lastSubmitAt;
    }
  };
}

/** settleWallet for an unlocked wallet: statuses saved, seqs released under the seal. */
export async function settleUnlocked(
  ks: Keystore, w: UnlockedWallet, ctx: NetContext, goal: Wait, deadline: number, repairUntilDeadline: boolean, spin?: Progress,
): Promise<Repair[]> {
  return settleWallet(ctx, w.state, {
    goal, deadline, repairUntilDeadline, ...(spin ? { spin } : {}),
    record: recorder(ks, w, w.name),
    release: (id, why) => ks.saveLedger(w, releaseSeq(w.state, id, ctx.id, why)),
  });
}

/** Every command with a wallet and a network finishes its transfers first; fails if one still holds its seq unsettled. */
async function settlePending(ks: Keystore, w: UnlockedWallet, ctx: NetContext, timeoutMs: number, spin: Progress): Promise<void> {
  await settleUnlocked(ks, w, ctx, 'final', Date.now() + timeoutMs, false, spin);
  for (const p of unsettled(w.state, ctx.id)) {
    const t = p.transfer;
    if (p.status === 'conflict') {
      throw new CliError('CONFLICT', `transfer ${t.id} (seq ${t.seq}) met a conflicting transfer; the account is likely frozen. Nothing was signed`);
    }
    const why = p.status === 'rejected' ? `rejected (${p.reason ?? ''})` : `${p.status} (no certificate checked here yet)`;
    throw new CliError(
      p.status === 'rejected' ? (p.reason ?? 'REJECTED') : 'PENDING',
      `earlier transfer ${t.id} (seq ${t.seq}) is ${why}; it holds seq ${t.seq} and was resubmitted as is. Try again later, or sign over it with --seq ${t.seq} (risky)`,
      { transferId: t.id, status: p.status, seq: t.seq },
    );
  }
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
  const { genesis, id: gid } = await genesisFor(on, false, true);
  const ctx = netContext(on.client, genesis, gid);
  const amount = parseCoins(o.amount, genesis.decimals, genesis.symbol);
  const pass = await passphrase(name);
  await ks.withLock(name, async () => {
    const w = ks.unlock(name, pass);
    const spin = progress(`sending ${showCoins(amount, genesis.decimals, genesis.symbol)}`, o.json);
    try {
      if (seq === undefined) await settlePending(ks, w, ctx, timeoutMs, spin);
      const acct = await checkedAccount(ctx, w.address, otherNodes(on));
      for (const m of acct.unchecked) warn(`${m}; not used`);
      if (acct.frozen) throw new CliError('FROZEN', `account ${w.address} is frozen (a double spend was proven); it can receive but not send`);
      if (acct.balance < amount) {
        throw new CliError(
          'INSUFFICIENT_FUNDS',
          `balance ${showCoins(acct.balance, genesis.decimals, genesis.symbol)} does not cover ${showCoins(amount, genesis.decimals, genesis.symbol)}; nothing was signed`,
        );
      }
      const plan = planSeq(w.state, { seq, prev: o.prev, ...(acct.head ? { account: acct.head } : {}), genesis: gid });
      for (const m of plan.warnings) warn(m);
      const t = signTransfer(w, genesis, to, amount, memo, plan.seq, plan.prev);
      // The ledger is durable before the transfer leaves: a crash now resubmits the same transfer, never a new one.
      ks.saveLedger(w, recordSigned(w.state, t, new Date().toISOString(), gid));
      spin.update(`transfer ${t.id.slice(0, 12)}… submitted`);
      const entry = w.state.transfers.find((x) => x.transfer.id === t.id)!;
      const out = await follow(ctx, entry, wait, Date.now() + timeoutMs, spin);
      if (out.decision.action === 'release') ks.saveLedger(w, releaseSeq(w.state, t.id, gid, out.decision.why));
      else recorder(ks, w, name)(t.id, out);
      const failure = failureOf(t, out, wait, timeoutMs, genesis.network);
      if (failure) throw failure;
      spin.done();
      if (o.json) printJson({ transferId: t.id, status: out.stage, seq: t.seq, from: t.from, to: t.to, amount: t.amount, memo: t.memo });
      else {
        printFields([
          ['sent', `${showCoins(amount, genesis.decimals, genesis.symbol)} to ${t.to}`],
          ['transfer', t.id],
          ['seq', String(t.seq)],
          ['status', `${out.stage}${out.stage === 'pending' ? '' : ' (checked here)'}`],
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
    const gid = genesisId(genesis);
    const plan = planSeq(w.state, { seq, prev: o.prev, genesis: gid });
    for (const m of plan.warnings) warn(m);
    const t = signTransfer(w, genesis, to, amount, memo, plan.seq, plan.prev);
    ks.saveLedger(w, recordSigned(w.state, t, new Date().toISOString(), gid));
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
  const { genesis, id: gid } = await genesisFor(on, Boolean(o.json), true);
  const ctx = netContext(on.client, genesis, gid);
  const spin = progress(`submitting transfer ${t.id.slice(0, 12)}…`, o.json);
  let out: Followed;
  try {
    out = await follow(ctx, { transfer: t, status: 'signed', signedAt: '' }, wait, Date.now() + timeoutMs, spin);
  } catch (e) {
    spin.fail();
    throw e;
  }
  // A wallet here that signed it learns its status (best effort: submit needs no wallet).
  // Under the wallet's lock: an unlocked read-modify-write could undo a concurrent signer's ledger.
  // A release needs the passphrase: the next send or sync does it.
  const ks = keystoreOf(o);
  try {
    if (out.decision.action !== 'release') {
      for (const w of ks.list()) if (w.address === t.from) await ks.withLock(w.name, async () => recorder(ks, undefined, w.name)(t.id, out));
    }
  } catch {
    // no wallet dir, a damaged file, or the wallet busy: not this command's business
  }
  const failure = failureOf(t, out, wait, timeoutMs, genesis.network);
  if (failure) {
    spin.fail();
    throw failure;
  }
  spin.done();
  if (o.json) printJson({ transferId: t.id, status: out.stage });
  else printFields([['transfer', t.id], ['status', out.stage]]);
}

/**
 * For commands that read (balance, history): the wallet's open transfers get one
 * step each (a resubmission when due, a checked status), without the passphrase;
 * a seq to release waits for the next send or sync. Never fails the command.
 */
export async function finishOpen(ks: Keystore, name: string, on: Online, quiet: boolean): Promise<void> {
  if (openTransfers(ks.read(name).state).length === 0) return;
  try {
    const { genesis, id } = await genesisFor(on, true, true);
    const ctx = netContext(on.client, genesis, id);
    await ks.withLock(name, async () => {
      await settleWallet(ctx, ks.read(name).state, { goal: 'final', deadline: Date.now(), repairUntilDeadline: false, record: recorder(ks, undefined, name) });
    });
  } catch (e) {
    if (!quiet) warn(`earlier transfers not finished now: ${(e as Error).message}`);
  }
}

/** `wallet sync NAME`: finishes every transfer of this wallet on this network, until stored, and says what it repaired. */
export async function syncCommand(name: string, o: TransferOptions): Promise<void> {
  const ks = keystoreOf(o);
  ks.read(name);
  const timeoutMs = parseTimeout(o.timeout, DEFAULT_TIMEOUT_S);
  const on = online(o);
  const { genesis, id: gid } = await genesisFor(on, Boolean(o.json), true);
  const ctx = netContext(on.client, genesis, gid);
  const pass = await passphrase(name);
  await ks.withLock(name, async () => {
    const w = ks.unlock(name, pass);
    const spin = progress(`syncing wallet ${name}`, o.json);
    let repairs: Repair[];
    try {
      repairs = await settleUnlocked(ks, w, ctx, 'stored', Date.now() + timeoutMs, true, spin);
    } catch (e) {
      spin.fail();
      throw e;
    }
    spin.done();
    const open = openTransfers(w.state, gid).map((e) => ({ transferId: e.transfer.id, seq: e.transfer.seq, status: e.status, ...(e.reason ? { reason: e.reason } : {}) }));
    if (o.json) return printJson({ name, network: genesis.network, genesis: gid, repaired: repairs, open });
    if (repairs.length === 0 && open.length === 0) return void process.stdout.write(`nothing to repair: every transfer of ${name} on ${genesis.network} is stored\n`);
    for (const r of repairs) {
      const sent = r.submissions > 0 ? `, resubmitted ${r.submissions}x` : '';
      process.stdout.write(`seq ${r.seq}  ${r.transferId.slice(0, 16)}  ${r.from} -> ${r.to}${sent}  (${r.why})\n`);
    }
    process.stdout.write(open.length === 0 ? `all stored\n` : `${open.length} still open: run sync again later\n`);
  });
}
