// The wallet's I/O around wallet/submission.ts: it asks nodes, checks what they
// show (wallet/trust.ts), feeds the checked answer to `decide`, and does what it
// says: resubmit, wait, stop or release. Every command that reaches the network
// runs settleWallet first, so the wallet finishes its own transfers (until stored).
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeAddress } from '../protocol/address.ts';
import type { Genesis } from '../protocol/genesis.ts';
import type { TransferJson } from '../protocol/json.ts';
import { CliError } from '../runtime/cli-output.ts';
import type { NodeClient } from './client.ts';
import type { WalletState, WalletTransfer } from './keystore.ts';
import { onNetwork, openTransfers, type AccountHead } from './ledger.ts';
import type { Progress } from './prompt.ts';
import { decide, DEFAULT_POLICY, isSettled, reached, type Answer, type Claim, type Decision, type Policy, type Stage } from './submission.ts';
import { proofOf, TrustedEpochs, verifiesOn } from './trust.ts';

/** Between status polls: quick enough to feel live, slow enough not to load a gateway. */
const POLL_MS = 250;
/** A gateway holds a ?wait request at most this long; the wallet polls after that. */
const SERVER_WAIT_MS = 30_000;
const CLAIMS = new Set(['pending', 'final', 'credited', 'stored']);

/** One network as the wallet sees it: its pinned genesis, a node client, and checked epoch records. */
export type NetContext = {
  readonly genesis: Genesis;
  /** genesisId(genesis). */
  readonly id: string;
  readonly client: NodeClient;
  readonly epochs: TrustedEpochs;
  readonly policy: Policy;
  readonly now: () => number;
};

export function netContext(client: NodeClient, genesis: Genesis, id: string, policy: Policy = DEFAULT_POLICY): NetContext {
  const epochs = new TrustedEpochs(genesis, async (n) => {
    const body = await client.call('GET', `/epochs/${n}`);
    if (typeof body.record !== 'string') throw new Error('the answer has no record');
    return body.record;
  });
  return { genesis, id, client, epochs, policy, now: Date.now };
}

/** A rejection as `decide` needs it: the release question is answered here, by the wallet's own check. */
function rejection(ctx: NetContext, t: TransferJson, reason: string): Answer {
  return { kind: 'rejected', reason, verifiesOnNetwork: verifiesOn(t, ctx.genesis.network) };
}

/** The node's view of transfer `t`, with its claim checked: a certificate or bundle it shows, and storage. */
export async function askNode(ctx: NetContext, t: TransferJson): Promise<Answer> {
  let a;
  try {
    a = await ctx.client.request('GET', `/transfers/${t.id}`);
  } catch (e) {
    if (e instanceof CliError && e.code === 'UNAVAILABLE') return { kind: 'unreachable' };
    throw e;
  }
  if (a.status === 404) return { kind: 'unknown' };
  if (a.status >= 400) return { kind: 'unreachable' };
  const status = String(a.body.status);
  if (status === 'rejected') return rejection(ctx, t, String(a.body.reason ?? 'REJECTED'));
  if (status === 'conflict') return { kind: 'conflict' };
  if (!CLAIMS.has(status)) return { kind: 'unknown' };
  const claim = status as Claim;
  let proof = await proofOf(ctx.epochs, t.id, a.body);
  // "stored": the bundle as the storage nodes serve it, checked here.
  if (claim === 'stored' && proof !== 'none') {
    const r = await ctx.client.request('GET', `/receipts/${t.id}`).catch(() => undefined);
    if (r && r.status === 200 && (await ctx.epochs.bundle(r.body.bundle, t.id))) proof = 'stored';
  }
  return { kind: 'status', claim, proof };
}

/** Hands `t` to a node (idempotent by id), letting the gateway hold the answer until `goal` or `waitMs`. */
export async function postNode(ctx: NetContext, t: TransferJson, goal: Claim, waitMs: number): Promise<Answer> {
  const serverWait = Math.max(1, Math.min(SERVER_WAIT_MS, waitMs));
  const query = goal === 'pending' ? '' : `?wait=${goal}&timeoutMs=${serverWait}`;
  let a;
  try {
    a = await ctx.client.request('POST', `/transfers${query}`, { transfer: t }, serverWait + 5_000);
  } catch (e) {
    if (e instanceof CliError && e.code === 'UNAVAILABLE') return { kind: 'unreachable' };
    throw e;
  }
  if (a.body.error === 'CONFLICT') return { kind: 'conflict' };
  if (a.status >= 400) return rejection(ctx, t, typeof a.body.error === 'string' ? a.body.error : `HTTP_${a.status}`);
  const claim = String(a.body.status ?? 'pending');
  // Anything past pending is a claim: the same node's view carries the proof.
  if (claim !== 'pending' && CLAIMS.has(claim)) return askNode(ctx, t);
  return { kind: 'status', claim: 'pending', proof: 'none' };
}

export type Followed = { stage: Stage; decision: Decision; lastSubmitAt?: number; reason?: string; submissions: number };

/**
 * Follows one transfer until `goal` is reached (by verified evidence), `decide` says
 * stop/done/release, or `deadline` passes. A deadline already past still gets the
 * command's first step (a resubmission when one is due) and its answer.
 */
export async function follow(
  ctx: NetContext, e: WalletTransfer, goal: Claim, deadline: number, spin?: Progress,
): Promise<Followed> {
  const t = e.transfer;
  let stage = e.status as Stage;
  let lastSubmitAt = e.lastSubmitAt;
  let reason: string | undefined;
  let submissions = 0;
  let answer: Answer = { kind: 'start' };
  if (!verifiesOn(t, ctx.genesis.network)) {
    // Signed for another network (a ledger from before binding, a stale genesis): no node needs asking.
    answer = { kind: 'rejected', reason: 'WRONG_NETWORK', verifiesOnNetwork: false };
  }
  for (;;) {
    if (answer.kind === 'rejected') reason = answer.reason;
    const d = decide({ stage, ...(lastSubmitAt !== undefined ? { lastSubmitAt } : {}) }, answer, ctx.now(), ctx.policy);
    stage = d.stage;
    const out = (): Followed => ({ stage, decision: d, ...(lastSubmitAt !== undefined ? { lastSubmitAt } : {}), ...(reason ? { reason } : {}), submissions });
    if (d.action === 'done' || d.action === 'stop' || d.action === 'release') return out();
    if (reached(stage, goal) || (ctx.now() >= deadline && answer.kind !== 'start')) return out();
    spin?.update(`transfer ${t.id.slice(0, 12)}… ${stage}, waiting for ${goal}`);
    if (d.action === 'resubmit') {
      lastSubmitAt = ctx.now();
      submissions++;
      answer = await postNode(ctx, t, goal, Math.max(1, deadline - ctx.now()));
    } else {
      await sleep(POLL_MS);
      answer = await askNode(ctx, t);
    }
  }
}

export type Repair = { transferId: string; seq: number; from: string; to: string; action: string; why: string; submissions: number };

/**
 * Finishes this wallet's own transfers on the network of `ctx`: each open one is
 * followed to `goal` (unsettled ones) or given one step towards stored (certified
 * ones), as `decide` says. `record` saves statuses; `release` (only with an unlocked
 * wallet) gives a seq back. Returns what changed or was done, oldest first.
 */
export async function settleWallet(
  ctx: NetContext,
  state: WalletState,
  opts: {
    goal: Claim;
    deadline: number;
    /** Certified ones: follow to stored until the deadline (sync), or just one step (other commands). */
    repairUntilDeadline: boolean;
    spin?: Progress;
    record: (id: string, f: Followed) => void | Promise<void>;
    release?: (id: string, why: string) => void | Promise<void>;
  },
): Promise<Repair[]> {
  const out: Repair[] = [];
  for (const e of openTransfers(state, ctx.id)) {
    if (!onNetwork(e, ctx.id)) continue;
    const from = e.status;
    const settled = isSettled(from as Stage);
    const goal: Claim = settled ? 'stored' : opts.goal;
    const deadline = settled && !opts.repairUntilDeadline ? ctx.now() : opts.deadline;
    opts.spin?.update(`${settled ? 'finishing' : 'resubmitting'} seq ${e.transfer.seq} (${e.transfer.id.slice(0, 12)}…), signed earlier`);
    const f = await follow(ctx, e, goal, deadline, opts.spin);
    let to: string = f.stage;
    if (f.decision.action === 'release') {
      if (opts.release) await opts.release(e.transfer.id, f.decision.why);
      else to = from; // released only under the wallet's passphrase (a sealed ledger change)
    }
    if (to !== 'released') await opts.record(e.transfer.id, { ...f, stage: to as Stage });
    if (to !== from || f.submissions > 0) {
      out.push({ transferId: e.transfer.id, seq: e.transfer.seq, from, to, action: f.decision.action, why: f.decision.why, submissions: f.submissions });
    }
  }
  return out;
}

/**
 * The account's seq and head, checked: a node's claim that the account is at seq s
 * with head h counts only with a valid certificate for h from this account at seq s
 * (no node can forge one). Up to k - q + 1 nodes are asked (as many as are known):
 * a certified seq is locked at q of the k custodians, so an honest node among them
 * sees it, and the highest checked claim wins. Unchecked claims are reported, not used.
 */
export async function checkedAccount(
  ctx: NetContext, address: string, others: readonly NodeClient[],
): Promise<{ head?: AccountHead; balance: bigint; frozen: boolean; unchecked: string[] }> {
  await ctx.epochs.upTo(0);
  const need = Math.max(1, ctx.epochs.latest.k - ctx.epochs.latest.q + 1);
  const clients = [ctx.client, ...others].slice(0, need);
  let head: AccountHead | undefined;
  let balance = 0n;
  let frozen = false;
  let answered = 0;
  const unchecked: string[] = [];
  for (const c of clients) {
    let a;
    try {
      a = await c.request('GET', `/accounts/${address}`);
    } catch {
      continue;
    }
    if (a.status === 404) {
      answered++;
      continue;
    }
    if (a.status >= 400) continue;
    answered++;
    if (c === ctx.client) {
      balance = BigInt(String(a.body.balance ?? '0'));
      frozen = a.body.frozen === true;
    }
    const seq = Number(a.body.seq ?? 0);
    const h = typeof a.body.head === 'string' ? a.body.head : null;
    if (!Number.isSafeInteger(seq) || seq <= 0 || h === null || !/^[0-9a-f]{64}$/.test(h)) continue;
    if (head !== undefined && head.seq >= seq) continue;
    const v = await c.request('GET', `/transfers/${h}`).catch(() => undefined);
    const cert = v && v.status === 200 ? await ctx.epochs.certificate(v.body.certificate, h) : null;
    if (cert && cert.transfer.seq === seq && encodeAddress(cert.transfer.from) === address) head = { seq, head: h };
    else unchecked.push(`${c.url} says seq ${seq} (head ${h.slice(0, 12)}…) but shows no valid certificate for it`);
  }
  if (answered === 0) throw new CliError('UNAVAILABLE', `no node answered about account ${address}`);
  return { ...(head ? { head } : {}), balance, frozen, unchecked };
}
