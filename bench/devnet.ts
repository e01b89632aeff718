// Placeholder: registered by its owner.
import type { Command } from 'commander';

export function registerBenchDevnet(bench: Command): void {
  void bench;
}
