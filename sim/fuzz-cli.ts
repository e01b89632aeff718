// `ringmint sim fuzz`: the command line of the fuzzer (fuzz.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { CliError, printJson } from '../runtime/cli-output.ts';
import { INVARIANTS } from './checker.ts';
import { runFuzz, type FuzzReport } from './fuzz.ts';
import { replayCommand, runSeed, shrink, worldOf } from './fuzz-seed.ts';

type FuzzFlags = { seeds?: string; minutes?: string; from?: string; jobs?: string; out?: string; json?: boolean; check?: string; shrink?: string; seed?: string; world?: boolean };

function int(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError('BAD_REQUEST', `--${name} wants an integer >= ${min}, got "${v}"`);
  return n;
}

export function registerFuzz(sim: Command): void {
  sim.command('fuzz')
    .description('run random, replayable worlds (faults, churn, Byzantine peers) and check every invariant; shrink and print each failure\'s replay')
    .option('--seeds <n>', 'seeds to run (default 100)')
    .option('--minutes <m>', 'run seeds for this long instead (an overnight run: --minutes 480)')
    .option('--from <seed>', 'first seed (default 1; seeds are consecutive)')
    .option('--jobs <j>', 'worker threads (default 1)')
    .option('--check <I1,I2,...>', `invariants that count as failures (default all: ${INVARIANTS.join(',')})`)
    .option('--shrink <runs>', 'runs spent shrinking the first failure of each invariant (default 60; 0: none)')
    .option('--seed <s>', 'replay one seed: run it, print its result (with --world: print its scenario JSON instead)')
    .option('--world', 'with --seed: print the seed\'s scenario as JSON (a regression scenario file)')
    .option('--out <dir>', 'write fuzz.json and each shrunk failing world (fuzz-SEED-INV.json) here')
    .option('--json', 'print the summary as the last stdout line')
    .action(async (flags: FuzzFlags) => {
      const check = flags.check === undefined ? [...INVARIANTS] : flags.check.split(',').map((x) => x.trim());
      for (const c of check) if (!(INVARIANTS as readonly string[]).includes(c)) throw new CliError('BAD_REQUEST', `--check: no invariant "${c}" (${INVARIANTS.join(', ')})`);
      if (flags.seed !== undefined) return replayOne(int('seed', flags.seed, 0), flags, check);
      const jobs = int('jobs', flags.jobs, 1, 1);
      if (jobs > availableParallelism() * 2) throw new CliError('BAD_REQUEST', `--jobs ${jobs}: more than twice the ${availableParallelism()} cores`);
      const minutes = flags.minutes === undefined ? 0 : Number(flags.minutes);
      if (!(minutes >= 0)) throw new CliError('BAD_REQUEST', `--minutes wants a number >= 0, got "${flags.minutes}"`);
      const seeds = int('seeds', flags.seeds, 100, 1);
      const bar = !flags.json && process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: 'fuzz {bar} {value}/{total} seeds | {failures} failing | {events} events', hideCursor: true }, cliProgress.Presets.shades_classic)
        : null;
      bar?.start(minutes > 0 ? 0 : seeds, 0, { failures: 0, events: 0 });
      let failing = 0;
      let events = 0;
      const log = (line: string): void => {
        if (flags.json) return;
        // Over the bar's line (it redraws below).
        console.error(bar ? `\r\x1b[K${line}` : line);
      };
      if (flags.out) mkdirSync(flags.out, { recursive: true });
      const report = await runFuzz({
        seeds, minutes, from: int('from', flags.from, 1), jobs, check, shrinkRuns: int('shrink', flags.shrink, 60),
        onResult: (r, done) => {
          events += r.events;
          if (r.failures.length > 0) failing++;
          for (const f of r.failures) {
            log(`seed ${r.seed}: ${f.invariant} failed: ${f.detail}`);
            log(`  replay: ${replayCommand(r.seed)}`);
          }
          if (bar) {
            if (minutes > 0) bar.setTotal(done);
            bar.update(done, { failures: failing, events });
          }
        },
        onShrunk: (seed, inv, s) => {
          log(`seed ${seed}: ${inv} still fails in a smaller world (${s.runs} shrinking runs): ${(s.world.nodes as number)} nodes, ${(s.world.transfers as number)} transfers`);
          log(`  smallest replay: ${replayCommand(seed, s.over)}`);
          if (flags.out) writeFileSync(join(flags.out, `fuzz-${seed}-${inv}.json`), JSON.stringify(s.world, null, 2) + '\n');
        },
      });
      bar?.stop();
      if (flags.out) writeFileSync(join(flags.out, 'fuzz.json'), JSON.stringify(report, null, 2) + '\n');
      if (!flags.json) printSummary(report);
      else printJson({ ...report, failing: report.failing.map(({ seed, invariant, replay, smallest }) => ({ seed, invariant, replay: smallest ?? replay })) });
      if (report.failures > 0) process.exitCode = 1;
    });
}

function printSummary(r: FuzzReport): void {
  const by = Object.entries(r.failuresByInvariant).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`${r.seeds} seeds, ${r.events} events, ${r.seedsPerMinute} seeds/min; ${r.failures} failing${by ? ` (${by})` : ''}`);
  const seen = new Set<string>();
  for (const f of r.failing) {
    if (seen.has(f.invariant)) continue;
    seen.add(f.invariant);
    console.log(`  ${f.invariant}: seed ${f.seed}: ${f.smallest ?? f.replay}`);
  }
}

function replayOne(seed: number, flags: FuzzFlags, check: string[]): void {
  if (flags.world) {
    process.stdout.write(JSON.stringify(worldOf(seed), null, 2) + '\n');
    return;
  }
  const r = runSeed(seed, {}, check);
  for (const f of r.failures) console.error(`seed ${seed}: ${f.invariant} failed: ${f.detail}`);
  if (r.failures.length > 0 && int('shrink', flags.shrink, 60) > 0) {
    const s = shrink(seed, r.failures[0]!.invariant, int('shrink', flags.shrink, 60));
    console.error(`smallest replay (${s.runs} shrinking runs): ${replayCommand(seed, s.over)}`);
  }
  const line = { seed, failures: r.failures, events: r.events, virtualSeconds: r.virtualSeconds, replay: replayCommand(seed) };
  if (flags.json) printJson(line);
  else console.log(`seed ${seed}: ${r.failures.length === 0 ? 'all invariants hold' : r.failures.map((f) => f.invariant).join(', ') + ' failed'} (${r.events} events, ${r.virtualSeconds} virtual s)`);
  if (r.failures.length > 0) process.exitCode = 1;
}
