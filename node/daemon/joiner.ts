// While the node is outside the current epoch, it asks the mint to admit it every
// JOIN_INTERVAL_MS (the request itself is a protocol rule: core/joining.ts).
import type { Logger } from 'pino';
import type { Message } from '../../protocol/messages.ts';
import type { Address } from '../../protocol/ports.ts';
import type { Signer } from '../../protocol/signature.ts';
import { isOutside, JOIN_INTERVAL_MS, joinRequest } from '../core/joining.ts';
import type { NodeMachineApi } from '../core/api.ts';

export type JoinerDeps = {
  readonly network: string;
  /** The node's own key (a plain signer: a join is not batch-signed). */
  readonly signer: Signer;
  readonly machine: NodeMachineApi;
  readonly addrs: () => string[];
  readonly send: (to: Address, msg: Message) => void;
  readonly log: Logger;
};

/** Starts asking; returns the stop step. */
export function startJoining(d: JoinerDeps): () => void {
  const ask = () => {
    if (!isOutside(d.machine.currentEpoch(), d.machine.id)) return;
    d.send({ mint: true }, joinRequest(d.network, d.signer, d.addrs(), Date.now()));
    d.log.debug('join request sent to the mint');
  };
  ask();
  const timer = setInterval(ask, JOIN_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
