// Every knob of a simulation run, its default, and the checks on a scenario file.
// A scenario file is a partial of SimParams (deep-merged onto the defaults); CLI
// flags and sweep parameters override it by dotted path ("network.loss=0.1").
import { z } from 'zod';
import { Reason, Rejection } from '../protocol/errors.ts';

const num = z.number().finite();
const nonNeg = num.min(0);
const prob = num.min(0).max(1);
const count = z.number().int().min(0);

const latency = z.discriminatedUnion('model', [
  z.object({ model: z.literal('constant'), ms: nonNeg }).strict(),
  z.object({ model: z.literal('uniform'), min: nonNeg, max: nonNeg }).strict(),
  z.object({ model: z.literal('lognormal'), median: nonNeg, sigma: nonNeg }).strict(),
  // Nodes are placed round-robin in regions; matrix[i][j] is the one-way ms from region i to j, jitter a fraction of it.
  z.object({ model: z.literal('regions'), matrix: z.array(z.array(nonNeg)).min(1), jitter: nonNeg }).strict(),
]);

const schema = z.object({
  name: z.string(),
  seed: z.union([z.string(), z.number()]),
  nodes: z.number().int().min(1),
  accounts: z.number().int().min(2),
  transfers: count,
  /** Poisson arrivals, transfers per virtual second. */
  rate: num.positive(),
  k: z.number().int().min(1).max(255),
  q: z.number().int().min(1).max(255),
  crypto: z.enum(['fast', 'real']),
  /** Node timer period, ms (retries, handoff, anti-entropy). */
  tickMs: num.positive(),
  /** After the last arrival, wait at most this long for transfers to settle. */
  drainSeconds: nonNeg,
  /** Once settled, run on this long (anti-entropy rounds) before the end-state checks (I8 needs it). */
  settleSeconds: nonNeg,
  /** Hard stop, virtual seconds (0: none). */
  maxVirtualSeconds: nonNeg,
  /** Count encoded bytes of every message (costs an encode per message). */
  measureBytes: z.boolean(),
  workload: z.object({
    senders: z.enum(['uniform', 'zipf']),
    recipients: z.enum(['uniform', 'zipf']),
    zipfS: nonNeg,
    /** Base units issued to each account before transfers start. */
    initialBalance: z.number().int().positive(),
    /** Transfer amounts are uniform in [1, maxAmount], capped by what the wallet can spend. */
    maxAmount: z.number().int().positive(),
    /** Transfers start when every account is funded, or after this long. */
    fundingTimeoutSeconds: num.positive(),
    /** A wallet resubmits a still-pending transfer, as is, after this long. */
    resubmitMs: num.positive(),
  }).strict(),
  network: z.object({
    latency,
    /** Latency between the mint and nodes (same models). */
    mintLatency: latency,
    loss: prob,
    duplicate: prob,
    /** A fraction of messages is delayed by an extra uniform [0, reorderMs]. */
    reorder: prob,
    reorderMs: nonNeg,
    /** Scheduled partitions: the nodes split into `groups` (by index mod groups; the mint sits in group 0). */
    partitions: z.array(z.object({ at: nonNeg, heal: nonNeg, groups: z.number().int().min(2) }).strict()),
  }).strict(),
  faults: z.object({
    /** At `at` s, `count` random honest nodes crash; they restart `restartAfter` s later (0: never), from their store unless diskLoss. */
    crashes: z.array(z.object({ at: nonNeg, count: z.number().int().min(1), restartAfter: nonNeg, diskLoss: z.boolean() }).strict()),
    /** Churn: `joins` new nodes ask the mint to join, one every `every` s from `start` s; `leaves` nodes leave (crash for good) likewise. */
    churn: z.object({ joins: count, leaves: count, start: nonNeg, every: num.positive() }).strict(),
    /** At `at` s one peer (node 0) sends `joins` join requests, each naming a fresh key of its own making. */
    sybilFlood: z.object({ at: nonNeg, joins: count }).strict(),
  }).strict(),
  adversaries: z.object({
    /** Accounts that each make one double-spend attempt at a random time of the transfer window. */
    doubleSpenders: count,
    /** Custodians that vote for a conflicting transfer instead of answering `conflict`. */
    equivocators: count,
    /** Nodes that send notices with invalid evidence to the mint. */
    falseAccusers: count,
    accuseEveryMs: num.positive(),
    /** Nodes that drop everything they would send. */
    silent: count,
    /** Each false accuser first reports this many double spends it made itself with throwaway keys (reputation farming). */
    selfReports: count,
  }).strict(),
  node: z.object({ retryMs: num.positive(), maxRetries: z.number().int().min(0), antiEntropyMs: num.positive() }).strict(),
  mint: z.object({
    epochIntervalMs: num.positive(),
    maxJoinsPerEpoch: z.number().int().min(1),
    /** Failure detection: live members report every reportEveryMs; one silent this long and reported unreachable is evicted (0: off). */
    evictAfterMs: nonNeg,
    reportEveryMs: num.positive(),
  }).strict(),
  /** Final-state checks look at up to this many accounts and bundles (sampled evenly) in big runs. */
  checkSample: z.number().int().min(1),
}).strict();

export type SimParams = z.infer<typeof schema>;
export type LatencyModel = SimParams['network']['latency'];

export const DEFAULT_PARAMS: SimParams = {
  name: 'custom',
  seed: 1,
  nodes: 32,
  accounts: 200,
  transfers: 1000,
  rate: 100,
  k: 4,
  q: 3,
  crypto: 'fast',
  tickMs: 100,
  drainSeconds: 60,
  settleSeconds: 65,
  maxVirtualSeconds: 0,
  measureBytes: true,
  workload: { senders: 'uniform', recipients: 'uniform', zipfS: 1.1, initialBalance: 1_000_000, maxAmount: 1000, fundingTimeoutSeconds: 600, resubmitMs: 5_000 },
  network: {
    latency: { model: 'uniform', min: 5, max: 50 },
    mintLatency: { model: 'constant', ms: 20 },
    loss: 0,
    duplicate: 0,
    reorder: 0,
    reorderMs: 0,
    partitions: [],
  },
  faults: { crashes: [], churn: { joins: 0, leaves: 0, start: 0, every: 1 }, sybilFlood: { at: 0, joins: 0 } },
  adversaries: { doubleSpenders: 0, equivocators: 0, falseAccusers: 0, accuseEveryMs: 2_000, silent: 0, selfReports: 0 },
  node: { retryMs: 1_000, maxRetries: 30, antiEntropyMs: 30_000 },
  mint: { epochIntervalMs: 5_000, maxJoinsPerEpoch: 64, evictAfterMs: 0, reportEveryMs: 2_000 },
  checkSample: 20_000,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else (arrays included) replaces. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T;
  // A latency model is one choice: a new model replaces the old one whole.
  if ('model' in over && over.model !== base.model) return over as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, v] of Object.entries(over)) out[key] = key in out ? deepMerge(out[key], v) : v;
  return out as T;
}

/** Sets `path` ("network.loss") in a plain object, creating objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) {
    if (!isObject(o[p])) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]!] = value;
}

export function getPath(source: unknown, path: string): unknown {
  let o = source;
  for (const p of path.split('.')) o = isObject(o) ? o[p] : undefined;
  return o;
}

/** A flag or sweep value: JSON when it parses (numbers, booleans, objects), else the string. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Defaults + scenario + overrides, checked; throws Rejection(BAD_REQUEST) naming the bad knob. */
export function resolveParams(scenario: unknown, overrides: Record<string, unknown> = {}): SimParams {
  let merged: unknown = deepMerge(DEFAULT_PARAMS, scenario ?? {});
  merged = deepMerge(merged, overrides);
  const r = schema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.join('.') || '(scenario)';
    throw new Rejection(Reason.BAD_REQUEST, `scenario knob ${where}: ${issue.message}`);
  }
  const p = r.data;
  if (2 * p.q <= p.k || p.q > p.k) throw new Rejection(Reason.BAD_REQUEST, `k=${p.k} q=${p.q}: need q <= k and 2q > k (protocol.md §3)`);
  const honest = p.nodes - p.adversaries.equivocators - p.adversaries.falseAccusers - p.adversaries.silent;
  if (honest < 1) throw new Rejection(Reason.BAD_REQUEST, 'scenario needs at least one honest node');
  if (p.adversaries.doubleSpenders > p.accounts / 2) throw new Rejection(Reason.BAD_REQUEST, 'at most half the accounts may double-spend');
  return p;
}

/** Overrides from run flags, as dotted paths. */
export function flagOverrides(o: {
  nodes?: string; accounts?: string; transfers?: string; rate?: string; k?: string; q?: string; seed?: string; crypto?: string; set?: string[];
}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = (key: string, v: string | undefined): void => {
    if (v !== undefined) setPath(out, key, Number(v));
  };
  n('nodes', o.nodes); n('accounts', o.accounts); n('transfers', o.transfers); n('rate', o.rate); n('k', o.k); n('q', o.q);
  if (o.seed !== undefined) out.seed = /^-?\d+$/.test(o.seed) ? Number(o.seed) : o.seed;
  if (o.crypto !== undefined) out.crypto = o.crypto;
  for (const s of o.set ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Rejection(Reason.BAD_REQUEST, `--set wants path=value, got "${s}"`);
    setPath(out, s.slice(0, eq), parseValue(s.slice(eq + 1)));
  }
  return out;
}
