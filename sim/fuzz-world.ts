// One fuzz seed's world: a scenario drawn at random from the seed alone, so the seed
// replays it. Small by design (a few dozen nodes, a few hundred transfers) so that a
// core runs 100+ seeds a minute; everything else is drawn wide: k and q, latency,
// loss, duplication, reordering, partitions, crashes by time and at step kinds (with
// and without disk loss), churn and epoch changes, and every kind of adversary mixed.
// Wallets stop resubmitting once told final (no later command repairs anything), so
// a transfer the network strands stays stranded and I9 sees it.
import { Prng } from './prng.ts';
import { BYZANTINE_KINDS } from './byzantine.ts';

/** Step kinds a crash may strike at: message types received, submit, tick, and events a step emits. */
export const STEP_KINDS = [
  'vote-request', 'vote', 'certified', 'credit-request', 'receipt', 'store', 'stored', 'account-pull', 'account-state', 'digest', 'submit', 'tick', 'epoch',
  'ev:certified', 'ev:locked', 'ev:credited', 'ev:stored', 'ev:status',
] as const;

/** I9's bound in fuzz worlds, s: retries (maxRetries x retryMs <= 15 s) and a few anti-entropy rounds (<= 4 s) fit well inside it. */
export const FUZZ_LIVENESS_SECONDS = 30;

type Json = Record<string, unknown>;

/** The scenario (a partial of SimParams) for `seed`. */
export function fuzzWorld(seed: number): Json {
  const r = new Prng(`fuzz-world/${seed}`);
  const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
  const between = (lo: number, hi: number): number => lo + r.int(hi - lo + 1);
  const chance = (p: number): boolean => r.next() < p;
  const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

  const k = pick([3, 3, 4, 4, 4, 5, 6]);
  const q = between(Math.floor(k / 2) + 1, k);
  const nodes = between(k + 2, 28);
  const accounts = between(8, 60);
  const transfers = between(20, 220);
  const rate = between(20, 150);
  const window = transfers / rate; // s of arrivals, roughly
  const funding = 2; // s before transfers start, roughly
  const inWindow = (): number => round(funding + r.next() * (window + 2), 1);

  const latency = pick([
    () => ({ model: 'uniform', min: between(1, 10), max: between(10, 80) }),
    () => ({ model: 'constant', ms: between(2, 40) }),
    () => ({ model: 'lognormal', median: between(5, 40), sigma: round(0.2 + r.next() * 0.6) }),
  ])();
  const lossy = chance(0.4);
  const network = {
    latency,
    loss: lossy ? round(r.next() * 0.08, 3) : 0,
    duplicate: chance(0.3) ? round(r.next() * 0.05, 3) : 0,
    reorder: chance(0.3) ? round(r.next() * 0.3) : 0,
    reorderMs: between(0, 300),
    partitions: Array.from({ length: chance(0.3) ? between(1, 2) : 0 }, () => {
      const at = inWindow();
      return { at, heal: round(at + 0.5 + r.next() * 6, 1), groups: between(2, 3) };
    }),
  };

  const crashes = Array.from({ length: chance(0.35) ? between(1, 2) : 0 }, () => ({
    at: inWindow(), count: between(1, 2), restartAfter: chance(0.1) ? 0 : round(0.5 + r.next() * 6, 1), diskLoss: chance(0.2),
  }));
  const stepCrashes = Array.from({ length: chance(0.6) ? between(1, 3) : 0 }, () => ({
    at: round(funding * r.next(), 1), on: pick(STEP_KINDS), nth: between(1, 40), beforeSend: chance(0.6),
    restartAfter: chance(0.1) ? 0 : round(0.5 + r.next() * 5, 1), diskLoss: chance(0.15),
  }));
  const churny = chance(0.25);
  const churn = { joins: churny ? between(0, 3) : 0, leaves: churny ? between(0, 1) : 0, start: inWindow(), every: round(0.5 + r.next() * 2, 1) };

  // Nodes that vote wrongly or not at all stay few: the protocol promises nothing to a
  // group with more than k - q of them (the checkers skip such groups).
  const badVoters = chance(0.3) ? 1 : 0;
  const silent = badVoters > 0 && chance(0.5) ? 1 : 0;
  const adversaries = {
    doubleSpenders: chance(0.4) ? between(1, Math.max(1, Math.floor(accounts / 8))) : 0,
    equivocators: badVoters - silent,
    silent,
    falseAccusers: chance(0.2) ? 1 : 0,
    accuseEveryMs: between(500, 3000),
    byzantine: chance(0.45) ? between(1, 2) : 0,
    outsiders: chance(0.35) ? 1 : 0,
    byzantineEveryMs: between(50, 300),
    byzantineBurst: between(8, 48),
    byzantineKinds: chance(0.3) ? [pick(BYZANTINE_KINDS)] : [],
    byzantineVictims: between(0, 3),
  };

  const node = { retryMs: between(200, 1000), maxRetries: between(8, 15), antiEntropyMs: between(1000, 4000) };
  return {
    name: `fuzz-${seed}`,
    seed,
    nodes, accounts, transfers, rate, k, q,
    tickMs: pick([20, 50, 100]),
    drainSeconds: FUZZ_LIVENESS_SECONDS + 25,
    settleSeconds: Math.ceil((3 * node.antiEntropyMs) / 1000) + 1,
    measureBytes: false,
    workload: {
      senders: pick(['uniform', 'zipf']), recipients: pick(['uniform', 'zipf']),
      initialBalance: pick([100, 1000, 1_000_000]), maxAmount: pick([10, 100, 1000]),
      fundingTimeoutSeconds: 60, resubmitMs: between(1000, 4000), resubmitUntil: 'final',
    },
    network,
    faults: { crashes, churn, stepCrashes },
    adversaries,
    node,
    mint: { epochIntervalMs: between(1000, 4000), maxJoinsPerEpoch: between(1, 8) },
    checks: { livenessSeconds: FUZZ_LIVENESS_SECONDS, resourceSlack: 64 },
  };
}
