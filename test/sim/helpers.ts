// Small, fast versions of the shipped scenarios for the sim test group.
import { loadScenario } from '../../sim/cli.ts';
import { resolveParams } from '../../sim/params.ts';
import { runSimulation, type RunResult } from '../../sim/run.ts';
import { realMachines } from '../../sim/machines.ts';

/** Test sizes: few nodes, short anti-entropy so the settling run stays short. */
export const SMALL = { transfers: 250, node: { antiEntropyMs: 4000 }, settleSeconds: 9, drainSeconds: 40 };

export function runSmall(scenario: string, over: Record<string, unknown> = {}): RunResult {
  const base = loadScenario(scenario) as Record<string, unknown>;
  return runSimulation(resolveParams(base, { ...SMALL, ...over }), { machines: realMachines });
}

export function failures(r: RunResult): string[] {
  return Object.entries(r.summary.invariants).filter(([, v]) => v !== 'pass').map(([k, v]) => `${k} ${v}`);
}
