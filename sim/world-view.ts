// What the fault and adversary schedulers see of the world: enough to schedule
// events, route messages and crash or restart hosts. World implements it; they
// import only this, so the world can own them without an import circle.
import type { Genesis } from '../protocol/genesis.ts';
import type { SignatureScheme } from '../protocol/signature.ts';
import type { Message } from '../protocol/messages.ts';
import type { Address } from '../protocol/ports.ts';
import type { Host } from './host.ts';
import type { Network } from './network.ts';
import type { SimParams } from './params.ts';
import type { Prng } from './prng.ts';
import type { Scheduler } from './scheduler.ts';
import type { Workload } from './workload.ts';

export type RunState = 'funding' | 'transfers' | 'draining' | 'done';

export interface WorldView {
  readonly params: SimParams;
  readonly sched: Scheduler;
  readonly rng: Prng;
  readonly net: Network;
  readonly hosts: Host[];
  readonly genesis: Genesis;
  readonly scheme: SignatureScheme;
  readonly workload: Workload;
  readonly state: RunState;
  /** Virtual ms of the last fault or its healing. */
  lastFaultAt: number;
  /** Calls `f` at virtual time `at` ms. */
  call(at: number, f: () => void): void;
  route(from: number, to: Address, msg: Message): void;
  crash(h: Host, diskLoss: boolean): void;
  restart(h: Host): void;
  join(): Host;
}
