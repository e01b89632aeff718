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
    /**
     * 'stored': the wallet CLI's behaviour (workload.ts): its later commands resubmit every
     * transfer not yet stored. 'final': nothing resubmits a transfer once it was final, so
     * the network alone must finish it: liveness (I9) is tested with 'final'.
     */
    resubmitUntil: z.enum(['stored', 'final']),
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
    /**
     * Crashes at a step kind: from `at` s on, the `nth` honest node step of kind `on` (a
     * message type received, 'submit', 'tick', or 'ev:' + an event type the step emits,
     * e.g. 'ev:certified') crashes its node, after its records are durable and before
     * (beforeSend) or after its sends leave; it restarts `restartAfter` s later (0: never).
     */
    stepCrashes: z.array(z.object({
      at: nonNeg, on: z.string().min(1), nth: z.number().int().min(1), beforeSend: z.boolean(), restartAfter: nonNeg, diskLoss: z.boolean(),
    }).strict()),
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
    /**
     * Byzantine members (byzantine.ts): they run the node machine and also send well-formed
     * messages of every type with arbitrary fields, forged or replayed signatures, wrong
     * epochs, spoofed replies and floods, one burst every byzantineEveryMs.
     */
    byzantine: count,
    /** Byzantine non-members: keys outside every epoch, the same repertoire. */
    outsiders: count,
    byzantineEveryMs: num.positive(),
    /** Messages per burst. */
    byzantineBurst: z.number().int().min(1),
    /** Only these message types (empty: all of them); a regression scenario names the one it tests. */
    byzantineKinds: z.array(z.string()),
    /** The nodes a burst aims at: this many victims (0: any member). */
    byzantineVictims: count,
  }).strict(),
  /** antiEntropyMs 'auto': the daemon's 30 s up to 1,000 nodes, longer in bigger rings (see autoAntiEntropyMs). */
  node: z.object({ retryMs: num.positive(), maxRetries: z.number().int().min(0), antiEntropyMs: z.union([num.positive(), z.literal('auto')]) }).strict(),
  mint: z.object({
    epochIntervalMs: num.positive(),
    maxJoinsPerEpoch: z.number().int().min(1),
    /** Failure detection: live members report every reportEveryMs; one silent this long and reported unreachable is evicted (0: off). */
    evictAfterMs: nonNeg,
    reportEveryMs: num.positive(),
  }).strict(),
  /** Final-state checks look at up to this many accounts and bundles (sampled evenly) in big runs. */
  checkSample: z.number().int().min(1),
  checks: z.object({
    /** I9: every certified transfer is credited and stored within this long after the last fault heals (or after it was certified); 0: off. */
    livenessSeconds: nonNeg,
    /** R1 (resource bounds): what a node may hold beyond what honest work explains (see bounds.ts); 0: off. */
    resourceSlack: count,
  }).strict(),
}).strict();

type Parsed = z.infer<typeof schema>;
/** Resolved parameters: every 'auto' replaced by its value. */
export type SimParams = Omit<Parsed, 'node'> & { node: Omit<Parsed['node'], 'antiEntropyMs'> & { antiEntropyMs: number } };

/** The daemon's anti-entropy period (node/core DEFAULT_NODE_OPTIONS). */
const DAEMON_ANTI_ENTROPY_MS = 30_000;
/** Rings up to this size run anti-entropy at the daemon's period. */
const AUTO_ANTI_ENTROPY_NODES = 1_000;

/**
 * The anti-entropy period an 'auto' run uses. Each round a node sends a digest to every
 * co-replica of what it holds (a few hundred messages in a 10,000-node ring), so a run
 * spends nodes x rounds on it whatever its transfers: at the daemon's 30 s, a
 * 10,000-node ring sends ~10^4 digests per virtual second while 200 transfers/s need
 * ~5,000 messages. Past 1,000 nodes the period grows with the ring (300 s at 10,000
 * nodes), so the digest traffic per virtual second stays that of a 1,000-node ring and a
 * run's cost follows its transfers. Set node.antiEntropyMs to study anti-entropy itself.
 */
export function autoAntiEntropyMs(nodes: number): number {
  return Math.round(DAEMON_ANTI_ENTROPY_MS * Math.max(1, nodes / AUTO_ANTI_ENTROPY_NODES));
}
export type LatencyModel = SimParams['network']['latency'];

export const DEFAULT_PARAMS: Parsed = {
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
  workload: { senders: 'uniform', recipients: 'uniform', zipfS: 1.1, initialBalance: 1_000_000, maxAmount: 1000, fundingTimeoutSeconds: 600, resubmitMs: 5_000, resubmitUntil: 'stored' },
  network: {
    latency: { model: 'uniform', min: 5, max: 50 },
    mintLatency: { model: 'constant', ms: 20 },
    loss: 0,
    duplicate: 0,
    reorder: 0,
    reorderMs: 0,
    partitions: [],
  },
  faults: { crashes: [], churn: { joins: 0, leaves: 0, start: 0, every: 1 }, sybilFlood: { at: 0, joins: 0 }, stepCrashes: [] },
  adversaries: {
    doubleSpenders: 0, equivocators: 0, falseAccusers: 0, accuseEveryMs: 2_000, silent: 0, selfReports: 0,
    byzantine: 0, outsiders: 0, byzantineEveryMs: 500, byzantineBurst: 8, byzantineKinds: [], byzantineVictims: 0,
  },
  node: { retryMs: 1_000, maxRetries: 30, antiEntropyMs: 'auto' },
  mint: { epochIntervalMs: 5_000, maxJoinsPerEpoch: 64, evictAfterMs: 0, reportEveryMs: 2_000 },
  checkSample: 20_000,
  checks: { livenessSeconds: 60, resourceSlack: 1024 },
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
  const parsed = r.data;
  const p: SimParams = { ...parsed, node: { ...parsed.node, antiEntropyMs: parsed.node.antiEntropyMs === 'auto' ? autoAntiEntropyMs(parsed.nodes) : parsed.node.antiEntropyMs } };
  if (2 * p.q <= p.k || p.q > p.k) throw new Rejection(Reason.BAD_REQUEST, `k=${p.k} q=${p.q}: need q <= k and 2q > k (protocol.md §3)`);
  const honest = p.nodes - p.adversaries.equivocators - p.adversaries.falseAccusers - p.adversaries.silent - p.adversaries.byzantine;
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
