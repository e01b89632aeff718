#!/usr/bin/env node
// The one CLI: wallet, node, mint, devnet, sim and bench. Each area registers its
// own commands; this file only composes them.
import { Command } from 'commander';
import { registerWallet } from './wallet/commands.ts';
import { registerNode } from '../node/daemon/cli.ts';
import { registerMint } from '../mint/daemon/cli.ts';
import { registerDevnet } from '../node/daemon/devnet-cli.ts';
import { registerSim } from '../sim/cli.ts';
import { registerBench } from '../bench/cli.ts';
import { exitWithError } from './output.ts';

const program = new Command('ringmint')
  .description('ringmint: a peer-to-peer virtual currency network')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');

registerWallet(program);
registerNode(program);
registerMint(program);
registerDevnet(program);
registerSim(program);
registerBench(program);

program.parseAsync(process.argv).catch(exitWithError);
