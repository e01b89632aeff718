// `ringmint bench ...`: benchmarks are commands that print figures measured in one run.
import type { Command } from 'commander';
import { registerBenchCore } from './core.ts';
import { registerBenchDevnet } from './devnet.ts';
import { registerBenchTransport } from './transport.ts';
import { registerBenchFlow } from './flow.ts';

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('measure throughput and latency (figures, not pass/fail)');
  registerBenchCore(bench);
  registerBenchDevnet(bench);
  registerBenchTransport(bench);
  registerBenchFlow(bench);
}
