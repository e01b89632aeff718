#!/usr/bin/env node
// The one CLI: wallet, node, mint, devnet, sim and bench. Each area registers its
// own commands; this file only composes them. An area is loaded only when its
// command runs: the daemon areas pull in libp2p, which would add about a second
// to every wallet call.
import { Command } from 'commander';
import { exitWithError } from '../runtime/cli-output.ts';

type Register = (program: Command) => void;

const areas: Record<string, () => Promise<Register>> = {
  wallet: async () => (await import('../wallet/commands.ts')).registerWallet,
  node: async () => (await import('../node/daemon/cli.ts')).registerNode,
  mint: async () => (await import('../mint/daemon/cli.ts')).registerMint,
  devnet: async () => (await import('../localnet/cli.ts')).registerDevnet,
  sim: async () => (await import('../sim/cli.ts')).registerSim,
  bench: async () => (await import('../bench/cli.ts')).registerBench,
};

async function main(): Promise<void> {
  const program = new Command('ringmint')
    .description('ringmint: a peer-to-peer virtual currency network')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  const first = process.argv.slice(2).find((a) => !a.startsWith('-'));
  const chosen = first !== undefined && first in areas ? [first] : Object.keys(areas);
  for (const name of chosen) (await areas[name]!())(program);
  await program.parseAsync(process.argv);
}

main().catch(exitWithError);
