// A stand-in node machine and node API deps for the HTTP tests: every answer empty
// unless the test overrides it, one epoch with the given k and q.
import { pino } from 'pino';
import type { NodeApiDeps } from '../../node/daemon/http.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { ZERO32, type Bytes } from '../../protocol/bytes.ts';
import type { EpochRecord } from '../../protocol/objects.ts';
import type { NodeMachineApi } from '../../node/core/api.ts';
import { emptyOutput } from '../../protocol/ports.ts';

/** Epoch 0 of one member; `group` is read at each call, so a test may change k and q. */
export function stubEpoch(network: string, member: Bytes, group: () => { k: number; q: number }): EpochRecord {
  const { k, q } = group();
  return { network, epoch: 0, members: [member], k, q, prev: ZERO32, issuedAt: 0, sig: new Uint8Array(64) };
}

export function stubMachine<M extends Partial<NodeMachineApi>>(network: string, id: Bytes, group: () => { k: number; q: number }, over: M): NodeMachineApi & M {
  return {
    id,
    submit: () => emptyOutput(),
    receive: () => emptyOutput(),
    tick: () => emptyOutput(),
    transfer: () => undefined,
    account: () => undefined,
    bundle: () => undefined,
    alerts: () => [],
    currentEpoch: () => stubEpoch(network, id, group),
    ...over,
  };
}

/** Deps of buildNodeHttp around `machine`: submits go to it, waits read it, no custodian or storage node answers. */
export function stubDeps(network: string, machine: NodeMachineApi, over: Partial<NodeApiDeps> = {}): NodeApiDeps {
  return {
    network,
    genesisJson: {} as never,
    machine,
    peerId: 'peer',
    startedAt: 0,
    metrics: createMetrics('node'),
    log: pino({ level: 'silent' }),
    submit: async (t) => void machine.submit(t),
    waitFor: async (id) => machine.transfer(id),
    askAccount: async () => ({ asked: 4, answers: [] }),
    findBundle: async () => null,
    epoch: () => undefined,
    ...over,
  };
}
