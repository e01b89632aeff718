// Adversaries as scenario knobs. They live on the simulator's side of the Output
// boundary, as wrappers around honest machines, and use only what a real attacker
// holds: its own keys and the public objects API. No protocol rule changes.
//   silent:        drops everything its node would send.
//   equivocator:   where its node answers `conflict`, it signs a vote for the
//                  conflicting transfer instead (objects.sign, its own key) and
//                  keeps quiet about the double spend.
//   false-accuser: sends the mint notices whose evidence does not hold (a second
//                  transfer with a forged signature), every accuseEveryMs.
//   double-spending wallets: see workload.ts (one attempt each, in the transfer window).
import { toHex } from '../protocol/bytes.ts';
import { NoticeCodec, TransferCodec, VoteCodec, doubleSpendEvidence, sign, type Transfer } from '../protocol/objects.ts';
import type { Outbound } from '../protocol/ports.ts';
import type { Host } from './host.ts';
import type { WorldView as World } from './world-view.ts';

export class Adversaries {
  private readonly world: World;
  /** Double-spend attempts scheduled but not yet made. */
  private dsWaiting = 0;
  equivocations = 0;
  accusations = 0;
  silenced = 0;

  constructor(world: World) {
    this.world = world;
  }

  get idle(): boolean {
    return this.dsWaiting === 0;
  }

  schedule(): void {
    const w = this.world;
    for (const h of w.hosts) {
      if (h.role !== 'false-accuser') continue;
      const every = w.params.adversaries.accuseEveryMs;
      const tick = (): void => {
        this.accuse(h);
        w.call(w.sched.time + every, tick);
      };
      w.call(every * (1 + w.rng.next()), tick);
    }
  }

  /** Double-spend attempts land at random times of the expected transfer window. */
  onTransfersBegin(): void {
    const w = this.world;
    const windowMs = (w.params.transfers / w.params.rate) * 1000;
    const rng = w.rng.fork('double-spend-times');
    for (const wallet of w.workload.wallets) {
      if (!wallet.doubleSpender) continue;
      this.dsWaiting++;
      w.call(w.sched.time + rng.next() * windowMs * 0.8, () => {
        this.dsWaiting--;
        w.workload.doubleSpend(wallet.index);
      });
    }
  }

  /** What a non-honest host lets out of one step. */
  filter(h: Host, sends: Outbound[]): Outbound[] {
    switch (h.role) {
      case 'silent':
        this.silenced += sends.length;
        return [];
      case 'equivocator':
        return sends.flatMap((s) => this.equivocate(h, s));
      default:
        return sends;
    }
  }

  private equivocate(h: Host, s: Outbound): Outbound[] {
    const m = s.msg;
    // It would expose the double spend; it says nothing.
    if (m.type === 'notice') return [];
    if (m.type !== 'conflict' || h.machine === null) return [s];
    const locked = m.locked;
    const vote = sign(VoteCodec, this.world.genesis.network, h.signer, {
      transferId: m.transferId, from: locked.from, seq: locked.seq, epoch: h.machine.currentEpoch().epoch, voter: h.id,
    });
    this.equivocations++;
    return [{ to: s.to, msg: { type: 'vote', vote } }];
  }

  /** A notice naming an honest account's "double spend", the second transfer signed with a key not its own. */
  private accuse(h: Host): void {
    const w = this.world;
    if (!h.up || w.state === 'done') return;
    const wallets = w.workload.wallets;
    const victim = wallets[w.rng.int(wallets.length)]!;
    const other = wallets[(victim.index + 1) % wallets.length]!;
    const net = w.genesis.network;
    const body = { from: victim.id, to: other.id, amount: 1n, seq: victim.seq + 1, prev: victim.head };
    const t1: Transfer = sign(TransferCodec, net, other.signer, { ...body, memo: new Uint8Array([1]) });
    const t2: Transfer = sign(TransferCodec, net, other.signer, { ...body, memo: new Uint8Array([2]) });
    const notice = sign(NoticeCodec, net, h.signer, { evidence: doubleSpendEvidence(t1, t2), reporter: h.id });
    this.accusations++;
    w.route(h.index, { mint: true }, { type: 'notice', notice });
  }
}

export function hexOfHost(h: Host): string {
  return toHex(h.id);
}
