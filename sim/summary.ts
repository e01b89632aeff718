// summary.json: the figures of one run. Everything but `wall` is a function of
// the seed and the parameters, so two runs with the same ones match byte for byte.
import { toHex } from '../protocol/bytes.ts';
import { sharedRing } from '../node/core/node-context.ts';
import { percentiles, round, Samples } from './metrics.ts';
import type { World } from './world.ts';
import type { SimParams } from './params.ts';
import type { Invariant } from './checker.ts';

export type Summary = {
  seed: string | number;
  scenario: string;
  params: SimParams;
  transfers: { arrivals: number; submitted: number; final: number; credited: number; stored: number; rejected: number; conflict: number; pending: number; skipped: number; resubmits: number };
  latencyMs: { final: Pct; credited: Pct; stored: Pct };
  doubleSpend: { attempted: number; certifiedBoth: number; detected: number; alerted: number; alertLatencyMs: { p50: number; p99: number } };
  reputation: { honestMin: number; falseAccuserMax: number | null; equivocatorMax: number | null; evicted: string[]; admitted: number; events: number };
  load: { accountsPerNode: Stat; messagesPerNode: Stat };
  network: { messages: number; bytes: number; dropped: number; duplicated: number; reordered: number };
  adversaries: { equivocations: number; accusations: number; silenced: number };
  epochs: number;
  invariants: Record<Invariant, string>;
  machineErrors: { count: number; first: string[] };
  sim: { events: number; virtualSeconds: number; fundedAtSeconds: number; quiet: boolean };
  wall: { seconds: number; eventsPerSec: number; peakRssMB: number };
};
type Pct = { p50: number; p90: number; p99: number; max: number; count: number };
type Stat = { mean: number; p1: number; p50: number; p99: number; max: number };

export function buildSummary(w: World, wallSeconds: number, peakRssMB: number): Summary {
  const wl = w.workload;
  let final = 0, credited = 0, stored = 0, rejected = 0, conflict = 0, pending = 0;
  for (const r of wl.byId.values()) {
    if (r.kind === 'issue' || r.kind === 'fund') continue;
    if (r.finalAt !== undefined) final++;
    if (r.creditedAt !== undefined) credited++;
    if (r.storedAt !== undefined) stored++;
    if (r.status === 'rejected') rejected++;
    else if (r.status === 'conflict') conflict++;
    else if (r.status !== 'stored') pending++;
  }
  const alertLat = new Samples();
  let certifiedBoth = 0, detected = 0, alerted = 0;
  for (const a of wl.attempts) {
    if (w.checker.certifiedBoth(a.ids)) certifiedBoth++;
    if (a.detectedAt !== undefined) detected++;
    if (a.alertAt !== undefined) {
      alerted++;
      alertLat.add(a.alertAt - a.at);
    }
  }
  const scores = w.mint.reputation();
  let honestMin = 0;
  let accuserMax: number | null = null;
  let equivMax: number | null = null;
  for (const h of w.hosts) {
    const s = scores.get(h.idHex) ?? 0;
    if (h.role === 'honest') honestMin = Math.min(honestMin, s);
    else if (h.role === 'false-accuser') accuserMax = accuserMax === null ? s : Math.max(accuserMax, s);
    else if (h.role === 'equivocator') equivMax = equivMax === null ? s : Math.max(equivMax, s);
  }
  // Custody load in the final epoch: accounts each member holds.
  const ring = sharedRing(w.mint.currentEpoch());
  const perNode = new Map<string, number>();
  for (const m of ring.epoch.members) perNode.set(toHex(m), 0);
  for (const wal of wl.wallets) for (const c of ring.custodians(wal.id)) {
    const k = toHex(c);
    perNode.set(k, (perNode.get(k) ?? 0) + 1);
  }
  const events = w.sched.executed;
  return {
    seed: w.params.seed,
    scenario: w.params.name,
    params: w.params,
    transfers: { arrivals: wl.arrivals, submitted: wl.submitted, final, credited, stored, rejected, conflict, pending, skipped: wl.skipped, resubmits: wl.resubmits },
    latencyMs: { final: w.obs.latency.final.summary(), credited: w.obs.latency.credited.summary(), stored: w.obs.latency.stored.summary() },
    doubleSpend: { attempted: wl.attempts.length, certifiedBoth, detected, alerted, alertLatencyMs: { p50: alertLat.pct(50), p99: alertLat.pct(99) } },
    reputation: {
      honestMin: round(honestMin), falseAccuserMax: accuserMax === null ? null : round(accuserMax), equivocatorMax: equivMax === null ? null : round(equivMax),
      evicted: w.obs.evicted.map((hex) => nodeName(w, hex)), admitted: w.obs.admitted.length, events: w.obs.reputationLog.length,
    },
    load: { accountsPerNode: percentiles([...perNode.values()]), messagesPerNode: percentiles(w.hosts.map((h) => h.messagesIn)) },
    network: { messages: w.messages, bytes: w.bytes, dropped: w.net.dropped, duplicated: w.net.duplicated, reordered: w.net.reordered },
    adversaries: { equivocations: w.adversaries.equivocations, accusations: w.adversaries.accusations, silenced: w.adversaries.silenced },
    epochs: w.mint.currentEpoch().epoch,
    invariants: w.checker.results(),
    machineErrors: { count: w.errorCount, first: w.errors.map((e) => e.split('\n').slice(0, 4).join(' | ')) },
    sim: { events, virtualSeconds: round(w.sched.time / 1000), fundedAtSeconds: round(Math.max(0, w.fundedAt) / 1000), quiet: w.quiet },
    wall: { seconds: round(wallSeconds), eventsPerSec: Math.round(events / Math.max(wallSeconds, 1e-9)), peakRssMB: Math.round(peakRssMB) },
  };
}

/** "node 12 (equivocator)": readable and stable across runs of one seed. */
function nodeName(w: World, hex: string): string {
  const i = w.hostByHex.get(hex);
  return i === undefined ? hex.slice(0, 16) : `node ${i} (${w.hosts[i]!.role})`;
}

/** The summary without its wall-clock section: the part that replays exactly. */
export function deterministicPart(s: Summary): Omit<Summary, 'wall'> {
  const { wall, ...rest } = s;
  void wall;
  return rest;
}

export function summaryJson(s: Summary): string {
  return JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}
