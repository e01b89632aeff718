// The mint's readiness (GET /readyz, runtime/health.ts): its epoch has members and it
// is connected to at least one of them, the gateway its issuances go through.
import { toHex } from '../../protocol/bytes.ts';
import type { EpochRecord } from '../../protocol/objects.ts';
import { atLeast, readiness, type Readiness } from '../../runtime/health.ts';

export type MintProbeDeps = {
  currentEpoch(): EpochRecord;
  /** Node ids (hex) the mint holds a connection to. */
  connectedNodes(): readonly string[];
};

export function mintReadiness(d: MintProbeDeps): Readiness {
  const e = d.currentEpoch();
  const members = new Set(e.members.map(toHex));
  let connected = 0;
  for (const n of new Set(d.connectedNodes())) if (members.has(n)) connected++;
  return readiness([
    { name: 'epoch', ok: members.size > 0, detail: `epoch ${e.epoch} with ${members.size} members` },
    atLeast('peers', connected, Math.min(1, members.size), 'ring members connected'),
  ]);
}
