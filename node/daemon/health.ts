// The node's readiness (GET /readyz, runtime/health.ts): it is a member of the epoch it
// knows as current, it is connected to enough ring members to gather a quorum with its
// own vote, and it is not pulling accounts (handoff, or re-sync after a restore).
import { toHex } from '../../protocol/bytes.ts';
import { Ring } from '../../protocol/ring.ts';
import type { NodeMachineApi } from '../core/api.ts';
import { atLeast, readiness, type Readiness } from '../../runtime/health.ts';

export type NodeProbeDeps = {
  readonly machine: NodeMachineApi;
  /** Node ids (hex) this node holds a connection to. */
  connectedNodes(): readonly string[];
};

export function nodeReadiness(d: NodeProbeDeps): Readiness {
  const e = d.machine.currentEpoch();
  const ring = new Ring(e);
  const self = toHex(d.machine.id);
  const member = ring.isMember(d.machine.id);
  const members = new Set(e.members.map(toHex));
  members.delete(self);
  let connected = 0;
  for (const n of new Set(d.connectedNodes())) if (members.has(n)) connected++;
  // With its own vote, q - 1 others make a quorum; a ring smaller than q needs every other member.
  const need = Math.min(e.q - 1, members.size);
  const pulling = d.machine.syncing?.() ?? 0;
  return readiness([
    { name: 'epoch', ok: member, detail: member ? `member of epoch ${e.epoch}` : `not a member of epoch ${e.epoch} (waiting for admission)` },
    atLeast('peers', connected, need, 'ring members connected'),
    { name: 'synced', ok: pulling === 0, detail: pulling === 0 ? 'no account being pulled' : `${pulling} accounts being pulled from their custodians` },
  ]);
}
