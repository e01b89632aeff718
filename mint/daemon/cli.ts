// Placeholder: commands of this area are registered here.
import type { Command } from 'commander';

export function registerMint(program: Command): void {
  void program;
}
