// `ringmint sim run|sweep`: the research simulator's commands.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, printJson } from '../runtime/cli-output.ts';
import { flagOverrides, resolveParams, type SimParams } from './params.ts';
import { runSimulation, writeOutputs } from './run.ts';
import { realMachines } from './machines.ts';
import { summaryJson } from './summary.ts';
import { runSweep } from './sweep.ts';
import { startProgress } from './progress.ts';
import { reexecForLargeRun } from './gc-tuning.ts';
import { fuzzWorld } from './fuzz-world.ts';
import { registerFuzz } from './fuzz-cli.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

export function scenarioNames(): string[] {
  return readdirSync(scenarioDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** A shipped scenario's name, or a path to a scenario file. */
export function loadScenario(nameOrPath: string | undefined): unknown {
  // fuzz:SEED: the world `sim fuzz` draws for that seed (fuzz-world.ts).
  const fz = nameOrPath === undefined ? null : /^fuzz:(\d+)$/.exec(nameOrPath);
  if (fz) return fuzzWorld(Number(fz[1]));
  if (nameOrPath === undefined) return { name: 'baseline', ...(JSON.parse(readFileSync(join(scenarioDir, 'baseline.json'), 'utf8')) as object) };
  const shipped = join(scenarioDir, `${nameOrPath}.json`);
  const path = existsSync(shipped) ? shipped : nameOrPath;
  if (!existsSync(path)) throw new CliError('NOT_FOUND', `no scenario "${nameOrPath}" (shipped: ${scenarioNames().join(', ')})`);
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return { name: existsSync(shipped) ? nameOrPath : path, ...j };
  } catch (e) {
    throw new CliError('BAD_REQUEST', `scenario ${path}: ${(e as Error).message}`);
  }
}

type RunFlags = { nodes?: string; accounts?: string; transfers?: string; rate?: string; k?: string; q?: string; seed?: string; crypto?: string; set?: string[]; out?: string; json?: boolean };

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function addRunFlags(c: Command): Command {
  return c
    .option('--nodes <n>', 'nodes in epoch 0')
    .option('--accounts <n>', 'wallet accounts')
    .option('--transfers <n>', 'transfer arrivals')
    .option('--rate <r>', 'arrivals per virtual second (Poisson)')
    .option('--k <k>', 'custodians per account')
    .option('--q <q>', 'quorum')
    .option('--seed <s>', 'PRNG seed')
    .option('--crypto <fast|real>', 'fast stand-in signatures or real ed25519')
    .option('--set <path=value>', 'any scenario knob by dotted path (repeatable), e.g. network.loss=0.05', collect)
    .option('--json', 'print the summary as the last stdout line');
}

/** The exact command that replays a run: same scenario, seed and overrides. */
export function replayCommand(scenario: string | undefined, p: SimParams, flags: RunFlags): string {
  const parts = ['npx ringmint sim run'];
  if (scenario) parts.push(scenario);
  for (const k of ['nodes', 'accounts', 'transfers', 'rate', 'k', 'q', 'crypto'] as const) if (flags[k] !== undefined) parts.push(`--${k} ${flags[k]}`);
  for (const s of flags.set ?? []) parts.push(`--set '${s}'`);
  parts.push(`--seed ${p.seed}`);
  return parts.join(' ');
}

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('research simulator: the real node and mint machines on a virtual network and clock');

  addRunFlags(
    sim.command('run [scenario]')
      .description(`run one scenario (shipped: ${scenarioNames().join(', ')}; or a path to a JSON file)`)
      .option('--out <dir>', 'write summary.json, timeseries.csv and report.html here'),
  ).action(async (scenario: string | undefined, flags: RunFlags) => {
    const params = resolveParams(loadScenario(scenario), flagOverrides(flags));
    const status = await reexecForLargeRun(params);
    if (status !== null) {
      process.exitCode = status;
      return;
    }
    const progress = flags.json ? null : startProgress(params);
    const r = runSimulation(params, { machines: realMachines, onSecond: progress?.update });
    progress?.stop();
    if (flags.out) writeOutputs(flags.out, r);
    const s = r.summary;
    const failed = Object.entries(s.invariants).filter(([, v]) => v !== 'pass');
    if (!flags.json) {
      const t = s.transfers;
      console.log(`${params.name}: ${params.nodes} nodes, ${t.submitted} transfers submitted, ${t.final} final, ${t.stored} stored, ${t.rejected} rejected, ${t.conflict} conflict`);
      console.log(`latency final p50 ${s.latencyMs.final.p50} ms p99 ${s.latencyMs.final.p99} ms; stored p50 ${s.latencyMs.stored.p50} ms`);
      if (s.doubleSpend.attempted > 0) console.log(`double spends: ${s.doubleSpend.attempted} attempted, ${s.doubleSpend.detected} detected, ${s.doubleSpend.alerted} alerted, ${s.doubleSpend.certifiedBoth} certified twice`);
      console.log(`${s.sim.events} events in ${s.sim.virtualSeconds} virtual s; ${s.wall.seconds} s wall (${s.wall.eventsPerSec} events/s, ${s.wall.peakRssMB} MB peak)`);
      console.log(`invariants: ${failed.length === 0 ? 'all pass' : failed.map(([k, v]) => `${k} ${v}`).join('; ')}`);
      if (flags.out) console.log(`outputs in ${flags.out}`);
    }
    if (failed.length > 0) {
      for (const [k, v] of failed) console.error(`invariant ${k} failed: ${v.replace(/^fail: /, '')}`);
      console.error(`replay: ${replayCommand(scenario, params, flags)}`);
    }
    if (flags.json) process.stdout.write(summaryJson(s).replace(/\n\s*/g, '') + '\n');
    if (failed.length > 0) process.exitCode = 1;
  });

  registerFuzz(sim);

  addRunFlags(
    sim.command('sweep [scenario]')
      .description('run a scenario once per combination of --param values; one CSV row per run')
      .requiredOption('--param <path=v1,v2,...>', 'a knob and its values (repeatable), e.g. nodes=100,1000', collect)
      .requiredOption('--out <file.csv>', 'CSV file to write'),
  ).action((scenario: string | undefined, flags: RunFlags & { param: string[] }) => {
    const base = loadScenario(scenario);
    const rows = runSweep(base, flagOverrides(flags), flags.param, realMachines, (line) => { if (!flags.json) console.error(line); });
    writeFileSync(flags.out!, rows.csv);
    if (flags.json) printJson({ runs: rows.count, out: flags.out, failed: rows.failed });
    else console.log(`${rows.count} runs written to ${flags.out}${rows.failed > 0 ? `; ${rows.failed} with failed invariants` : ''}`);
    if (rows.failed > 0) process.exitCode = 1;
  });
}
