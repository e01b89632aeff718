// A node's side of membership in the daemon (protocol.md §7): every JOIN_INTERVAL_MS it asks
// the mint for epochs past its newest (catch-up over any gap); every REPORT_INTERVAL_MS a
// member sends the mint a signed reachability report (failure detection); and it tells,
// in a log line and GET /status, when it was removed from the ring and must re-join.
import type { Logger } from 'pino';
import type { Libp2p } from 'libp2p';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import type { Message } from '../../protocol/messages.ts';
import { sign } from '../../protocol/objects.ts';
import type { Address } from '../../protocol/ports.ts';
import { MAX_UNREACHABLE_PER_REPORT, ReachabilityCodec } from '../../protocol/reachability.ts';
import { Ring } from '../../protocol/ring.ts';
import type { Signer } from '../../protocol/signature.ts';
import type { NodeMachineApi } from '../core/api.ts';
import { JOIN_INTERVAL_MS } from '../core/joining.ts';
import { peerIdOfNode } from '../../runtime/keys.ts';
import type { MembershipView } from './http.ts';

/** A member reports to the mint this often; the mint's evictAfterMs is many of these. */
export const REPORT_INTERVAL_MS = 2_000;

export type MembershipDeps = {
  readonly network: string;
  /** The node's own key (a plain signer: reports are not batch-signed). */
  readonly signer: Signer;
  readonly machine: NodeMachineApi;
  readonly libp2p: Libp2p;
  readonly send: (to: Address, msg: Message) => void;
  readonly log: Logger;
};

export class Membership {
  private readonly d: MembershipDeps;
  /** A member of an epoch this node held (its store, or this run): being outside later is an eviction. */
  private wasMember: boolean;
  private evictedAt: number | null = null;
  private logged = false;

  constructor(d: MembershipDeps) {
    this.d = d;
    this.wasMember = this.isMember();
  }

  /** Starts the timers; returns the stop step. */
  start(): () => void {
    this.poll();
    const polls = setInterval(() => this.poll(), JOIN_INTERVAL_MS);
    const reports = setInterval(() => this.report(), REPORT_INTERVAL_MS);
    polls.unref();
    reports.unref();
    return () => {
      clearInterval(polls);
      clearInterval(reports);
    };
  }

  private isMember(): boolean {
    return Ring.of(this.d.machine.currentEpoch()).isMember(this.d.machine.id);
  }
  private head(): number {
    const e = this.d.machine.currentEpoch().epoch;
    return Math.max(e, this.d.machine.knownEpochHead?.() ?? e);
  }

  /** Where this node stands (GET /status `membership`). */
  view(): MembershipView {
    const e = this.d.machine.currentEpoch();
    const head = this.head();
    if (head > e.epoch) return { state: 'catching-up', knownEpoch: head, note: `fetching epochs ${e.epoch + 1}..${head}; votes for nothing until then` };
    if (this.isMember()) return { state: 'member', knownEpoch: head, note: `member of epoch ${e.epoch}` };
    if (this.wasMember) {
      this.evictedAt ??= e.epoch;
      return { state: 'evicted', knownEpoch: head, note: `removed from the ring by epoch ${this.evictedAt}; this node must re-join: it asks the mint every ${JOIN_INTERVAL_MS / 1000} s` };
    }
    return { state: 'joining', knownEpoch: head, note: `not a member of epoch ${e.epoch}; asking the mint to admit this node` };
  }

  /** Asks for epochs past the newest; notes (once) an eviction found after catching up. */
  private poll(): void {
    const e = this.d.machine.currentEpoch();
    this.d.send({ mint: true }, { type: 'epoch-request', from: e.epoch + 1 });
    if (this.head() > e.epoch) return; // membership is judged at the newest epoch
    if (this.isMember()) {
      this.wasMember = true;
      this.evictedAt = null;
      this.logged = false;
      return;
    }
    if (this.wasMember && !this.logged) {
      this.logged = true;
      this.evictedAt ??= e.epoch;
      this.d.log.warn({ epoch: e.epoch }, `this node was removed from the ring by epoch ${e.epoch} (unreachable too long, or evicted); it must re-join: asking the mint to admit it again`);
    }
  }

  /**
   * A member's signed report: alive, and which members of its epoch it has no connection
   * to (dialled now, so the next report is current).
   */
  private report(): void {
    const e = this.d.machine.currentEpoch();
    if (!this.isMember()) return;
    const me = toHex(this.d.machine.id);
    const unreachable: Bytes[] = [];
    for (const m of e.members) {
      if (unreachable.length >= MAX_UNREACHABLE_PER_REPORT) break;
      if (toHex(m) === me) continue;
      const peer = peerIdOfNode(m);
      if (this.d.libp2p.getConnections(peer).length > 0) continue;
      unreachable.push(m);
      this.d.libp2p.dial(peer).catch(() => {});
    }
    const report = sign(ReachabilityCodec, this.d.network, this.d.signer, { reporter: this.d.machine.id, epoch: e.epoch, at: Date.now(), unreachable });
    this.d.send({ mint: true }, { type: 'reachability', report });
  }
}
