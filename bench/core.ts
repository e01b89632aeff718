// Placeholder: registered by its owner.
import type { Command } from 'commander';

export function registerBenchCore(bench: Command): void {
  void bench;
}
