// One fuzz seed, run and judged; and the shrinker that makes a failing seed's world
// smaller while it still fails the same invariant. Both are plain functions of the
// seed and the overrides, so a worker thread and the main thread run them alike.
import { resolveParams, setPath } from './params.ts';
import { runSimulation } from './run.ts';
import { realMachines } from './machines.ts';
import { fuzzWorld } from './fuzz-world.ts';
import { INVARIANTS, type Invariant } from './checker.ts';
import type { Machines } from './world.ts';

/** Overrides on top of a seed's world, by dotted path ("faults.crashes" = []). */
export type Overrides = Record<string, unknown>;

export type SeedResult = {
  seed: number;
  /** Failed invariants (of those checked) and why; 'error' when the simulator itself threw. */
  failures: { invariant: Invariant | 'error'; detail: string }[];
  events: number;
  virtualSeconds: number;
  wallMs: number;
};

/** The scenario of `seed` with `over` applied, as a plain object (a scenario file's content). */
export function worldOf(seed: number, over: Overrides = {}): Record<string, unknown> {
  const w = fuzzWorld(seed);
  for (const [path, v] of Object.entries(over)) setPath(w, path, v);
  return w;
}

export function runSeed(seed: number, over: Overrides = {}, check: readonly string[] = INVARIANTS, machines: Machines = realMachines): SeedResult {
  const t0 = performance.now();
  try {
    const params = resolveParams(worldOf(seed, over));
    const r = runSimulation(params, { machines });
    const failures: SeedResult['failures'] = [];
    for (const inv of INVARIANTS) {
      const v = r.summary.invariants[inv];
      if (v !== 'pass' && check.includes(inv)) failures.push({ invariant: inv, detail: v.replace(/^fail: /, '') });
    }
    return { seed, failures, events: r.summary.sim.events, virtualSeconds: r.summary.sim.virtualSeconds, wallMs: performance.now() - t0 };
  } catch (e) {
    const detail = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 3).join(' | ') : String(e);
    return { seed, failures: [{ invariant: 'error', detail }], events: 0, virtualSeconds: 0, wallMs: performance.now() - t0 };
  }
}

/** `npx ringmint sim run fuzz:SEED --set ...`: the replay of a seed's world with overrides. */
export function replayCommand(seed: number, over: Overrides = {}): string {
  const sets = Object.entries(over).map(([k, v]) => ` --set '${k}=${JSON.stringify(v)}'`).join('');
  return `npx ringmint sim run fuzz:${seed}${sets}`;
}

/**
 * Candidate simplifications of a world, most drastic first: drop an adversary kind, a
 * fault, the network's noise; then fewer transfers, accounts and nodes.
 */
function candidates(w: Record<string, unknown>): Overrides[] {
  const get = (path: string): unknown => path.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], w);
  const out: Overrides[] = [];
  for (const a of ['byzantine', 'outsiders', 'doubleSpenders', 'equivocators', 'silent', 'falseAccusers']) {
    if ((get(`adversaries.${a}`) as number) > 0) out.push({ [`adversaries.${a}`]: 0 });
  }
  for (const f of ['network.partitions', 'faults.crashes', 'faults.stepCrashes']) {
    const xs = get(f) as unknown[];
    if (xs.length > 0) out.push({ [f]: [] });
    if (xs.length > 1) for (let i = 0; i < xs.length; i++) out.push({ [f]: xs.filter((_, j) => j !== i) });
  }
  if ((get('faults.churn.joins') as number) > 0) out.push({ 'faults.churn.joins': 0 });
  if ((get('faults.churn.leaves') as number) > 0) out.push({ 'faults.churn.leaves': 0 });
  for (const n of ['network.loss', 'network.duplicate', 'network.reorder']) if ((get(n) as number) > 0) out.push({ [n]: 0 });
  const transfers = get('transfers') as number;
  if (transfers > 5) out.push({ transfers: Math.max(5, Math.floor(transfers / 2)) }, { transfers: transfers - Math.max(1, Math.floor(transfers / 8)) });
  const accounts = get('accounts') as number;
  const minAccounts = Math.max(4, 2 * (get('adversaries.doubleSpenders') as number));
  if (accounts > minAccounts) out.push({ accounts: Math.max(minAccounts, Math.floor(accounts / 2)) }, { accounts: accounts - 1 });
  const nodes = get('nodes') as number;
  const k = get('k') as number;
  const bad = ['equivocators', 'silent', 'byzantine', 'falseAccusers'].reduce((s, a) => s + (get(`adversaries.${a}`) as number), 0);
  const minNodes = Math.max(k, bad + 1);
  if (nodes > minNodes) out.push({ nodes: Math.max(minNodes, Math.floor((nodes + minNodes) / 2)) }, { nodes: nodes - 1 });
  return out;
}

export type ShrinkResult = { over: Overrides; runs: number; world: Record<string, unknown> };

/**
 * Greedy shrinking: apply each candidate that keeps `invariant` failing, and go round
 * again until none does or `maxRuns` runs are spent. `base`: overrides the world starts
 * from (kept in the result's `over`).
 */
export function shrink(seed: number, invariant: string, maxRuns = 60, machines: Machines = realMachines, base: Overrides = {}): ShrinkResult {
  let over: Overrides = { ...base };
  let runs = 0;
  let progress = true;
  while (progress && runs < maxRuns) {
    progress = false;
    for (const c of candidates(worldOf(seed, over))) {
      if (runs >= maxRuns) break;
      const next = { ...over, ...c };
      runs++;
      const r = runSeed(seed, next, [invariant], machines);
      if (r.failures.some((f) => f.invariant === invariant)) {
        over = next;
        progress = true;
        break; // candidates are recomputed for the smaller world
      }
    }
  }
  return { over, runs, world: worldOf(seed, over) };
}
