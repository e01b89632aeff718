// Reads the node's HTTP API answers from other replicas: an account's state and
// history from its custodians, a stored bundle from its storage nodes. Whom to ask
// and how to agree are protocol rules (core/read-quorum.ts); this module asks over
// libp2p (runtime/queries.ts) and adds this node's own replica where it is one.
import type { Bytes } from '../../protocol/bytes.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Bundle } from '../../protocol/objects.ts';
import type { Address } from '../../protocol/ports.ts';
import { Ring } from '../../protocol/ring.ts';
import { Queries } from '../../runtime/queries.ts';
import type { AccountHistory, NodeMachineApi } from '../core/api.ts';
import { stateHistory } from '../core/history.ts';
import { lookupPlan, readPlan, replicaOfState, replicaOfView, type ReplicaView } from '../core/read-quorum.ts';

export class ReplicaReads {
  // Lookup answers are checked before HTTP uses them: a peer may answer with another transfer's bundle, or a forged one.
  private readonly queries = new Queries((b) => this.machine().checkBundle?.(b) ?? true);
  private readonly machine: () => NodeMachineApi;
  private readonly send: (to: Address, msg: Message) => void;

  constructor(machine: () => NodeMachineApi, send: (to: Address, msg: Message) => void) {
    this.machine = machine;
    this.send = send;
  }

  /**
   * An answer to an open question is taken here. True when the machine need not see it:
   * an account state still goes to the machine when this node is one of its custodians.
   */
  take(from: Address, msg: Message): boolean {
    if (!this.queries.take(from, msg)) return false;
    const m = this.machine();
    return msg.type !== 'account-state' || !Ring.of(m.currentEpoch()).isCustodian(m.id, msg.state.account);
  }

  /** States of `account` by custodian, this node's own replica included when it is one. */
  async askAccount(account: Bytes): Promise<{ asked: number; answers: ReplicaView[] }> {
    const m = this.machine();
    const plan = readPlan(m.currentEpoch(), m.id, account);
    const states = await this.queries.askAccount(account, plan.epoch, plan.peers, this.send);
    const answers: ReplicaView[] = [...states.values()].map(replicaOfState);
    const own = plan.includesSelf ? replicaOfView(this.machine().account(account)) : undefined;
    if (own !== undefined) answers.push(own);
    return { asked: plan.custodians.length, answers };
  }

  /** Histories from the account-state answers (their first credit page) and this node's own replica. */
  async askHistory(account: Bytes): Promise<{ asked: number; answers: AccountHistory[] }> {
    const m = this.machine();
    const plan = readPlan(m.currentEpoch(), m.id, account);
    const states = await this.queries.askAccount(account, plan.epoch, plan.peers, this.send);
    const answers = [...states.values()].map(stateHistory);
    if (plan.includesSelf) {
      const h = this.machine().history?.(account);
      if (h && h.synced) answers.push(h);
    }
    return { asked: plan.custodians.length, answers };
  }

  findBundle(transferId: Bytes): Promise<Bundle | null> {
    const m = this.machine();
    return this.queries.askBundle(transferId, lookupPlan(m.currentEpoch(), m.id, transferId), this.send);
  }
}
