// The real protocol machines, as the world builds them: the same classes the
// node and mint daemons run.
import { NodeMachine } from '../node/core/node-machine.ts';
import { MintMachine } from '../mint/core/mint-machine.ts';
import { createGenesis } from '../mint/core/genesis-create.ts';
import type { Machines } from './world.ts';

export const realMachines: Machines = {
  node: (init) => new NodeMachine(init),
  mint: (init) => new MintMachine(init),
  genesis: (p) => createGenesis({ network: p.network, mint: p.mint, members: p.members, k: p.k, q: p.q, issuedAt: p.issuedAt, admission: 'open' }),
};
