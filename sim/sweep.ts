// `sim sweep`: one run per combination of parameter values, one CSV row each
// (the parameters, then key figures of the summary), for papers and plots.
import { Reason, Rejection } from '../protocol/errors.ts';
import { deepMerge, getPath, parseValue, resolveParams, setPath } from './params.ts';
import { runSimulation } from './run.ts';
import type { Machines } from './world.ts';
import type { Summary } from './summary.ts';

/** Summary figures in each row, by dotted path. */
export const SWEEP_COLUMNS = [
  'transfers.submitted', 'transfers.final', 'transfers.stored', 'transfers.rejected', 'transfers.conflict', 'transfers.pending',
  'latencyMs.final.p50', 'latencyMs.final.p99', 'latencyMs.stored.p50', 'latencyMs.stored.p99',
  'doubleSpend.attempted', 'doubleSpend.detected', 'doubleSpend.alerted', 'doubleSpend.certifiedBoth',
  'reputation.honestMin', 'reputation.falseAccuserMax', 'load.accountsPerNode.max', 'network.messages', 'network.bytes',
  'sim.events', 'sim.virtualSeconds', 'wall.seconds', 'wall.eventsPerSec', 'wall.peakRssMB',
] as const;

export function parseParam(spec: string): { path: string; values: unknown[] } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Rejection(Reason.BAD_REQUEST, `--param wants path=v1,v2,..., got "${spec}"`);
  return { path: spec.slice(0, eq), values: spec.slice(eq + 1).split(',').map(parseValue) };
}

function cell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function runSweep(
  base: unknown, overrides: Record<string, unknown>, specs: string[], machines: Machines, log: (line: string) => void,
): { csv: string; count: number; failed: number } {
  const params = specs.map(parseParam);
  let combos: Record<string, unknown>[] = [{}];
  for (const p of params) combos = combos.flatMap((c) => p.values.map((v) => ({ ...c, [p.path]: v })));
  const header = [...params.map((p) => p.path), 'seed', 'invariants', ...SWEEP_COLUMNS];
  const lines = [header.map(cell).join(',')];
  let failed = 0;
  for (const combo of combos) {
    const over: Record<string, unknown> = deepMerge({}, overrides);
    for (const [path, v] of Object.entries(combo)) setPath(over, path, v);
    const p = resolveParams(base, over);
    const r = runSimulation(p, { machines });
    const s: Summary = r.summary;
    const bad = Object.entries(s.invariants).filter(([, v]) => v !== 'pass').map(([k]) => k);
    if (bad.length > 0) failed++;
    lines.push([...params.map((x) => combo[x.path]), p.seed, bad.length === 0 ? 'pass' : `fail ${bad.join(' ')}`, ...SWEEP_COLUMNS.map((c) => getPath(s, c))].map(cell).join(','));
    log(`${Object.entries(combo).map(([k, v]) => `${k}=${String(v)}`).join(' ')}: ${s.transfers.stored} stored, final p50 ${s.latencyMs.final.p50} ms, ${s.wall.seconds} s wall`);
  }
  return { csv: lines.join('\n') + '\n', count: combos.length, failed };
}
