// Membership scenario knobs (protocol.md §7): a join flood from one peer, reachability
// reports from every live member (the mint's failure detection), and false accusers that
// first farm reputation with self-made double spends of throwaway keys. Scheduled from
// scheduleFaults; they use only what a real node or attacker holds.
import { JoinCodec, NoticeCodec, TransferCodec, doubleSpendEvidence, sign } from '../protocol/objects.ts';
import { ReachabilityCodec, MAX_UNREACHABLE_PER_REPORT } from '../protocol/reachability.ts';
import { sha256 } from '../protocol/hash.ts';
import { utf8, type Bytes } from '../protocol/bytes.ts';
import type { Host } from './host.ts';
import type { WorldView as World } from './world-view.ts';

/** Counters the outcome tests read (world.membership). */
export type MembershipStats = { floodJoins: number; reports: number; selfReports: number };
export const membershipStats = new WeakMap<object, MembershipStats>();

export function scheduleMembership(w: World): MembershipStats {
  const p = w.params;
  const stats: MembershipStats = { floodJoins: 0, reports: 0, selfReports: 0 };
  membershipStats.set(w, stats);
  const flood = p.faults.sybilFlood;
  if (flood.joins > 0) w.call(flood.at * 1000, () => sybilFlood(w, flood.joins, stats));
  if (p.mint.evictAfterMs > 0) {
    const every = p.mint.reportEveryMs;
    const tick = (): void => {
      if (w.state === 'done') return;
      for (const h of w.hosts) report(w, h, stats);
      w.call(w.sched.time + every, tick);
    };
    w.call(every, tick);
  }
  if (p.adversaries.selfReports > 0) {
    for (const h of w.hosts) {
      if (h.role !== 'false-accuser') continue;
      // Before it starts accusing: the farmed score would shield the accusations that follow.
      for (let i = 0; i < p.adversaries.selfReports; i++) w.call(100 + i * 50, () => selfReport(w, h, i, stats));
    }
  }
  return stats;
}

/** One peer (the first host) sends `n` joins, each naming a fresh key it made (and signed with it). */
function sybilFlood(w: World, n: number, stats: MembershipStats): void {
  const flooder = w.hosts[0]!;
  const rng = w.rng.fork('sybil-flood');
  for (let i = 0; i < n; i++) {
    const signer = w.scheme.signer(rng.bytes(32));
    const join = sign(JoinCodec, w.genesis.network, signer, { node: signer.publicKey, addrs: [`/sim/sybil/${i}`], issuedAt: Math.floor(w.sched.time) });
    w.route(flooder.index, { mint: true }, { type: 'join', join });
    stats.floodJoins++;
  }
}

/** A live member's signed report: alive, and the members of its epoch that are down. */
function report(w: World, h: Host, stats: MembershipStats): void {
  if (!h.up || h.left || h.machine === null || h.role === 'silent') return;
  const e = h.machine.currentEpoch();
  const down = new Map<string, Host>();
  for (const x of w.hosts) if (!x.up || x.left) down.set(x.idHex, x);
  let member = false;
  const unreachable: Bytes[] = [];
  for (const m of e.members) {
    const hex = Buffer.from(m).toString('hex');
    if (hex === h.idHex) member = true;
    else if (down.has(hex) && unreachable.length < MAX_UNREACHABLE_PER_REPORT) unreachable.push(m);
  }
  if (!member) return;
  const r = sign(ReachabilityCodec, w.genesis.network, h.signer, { reporter: h.id, epoch: e.epoch, at: Math.floor(w.sched.time), unreachable });
  w.route(h.index, { mint: true }, { type: 'reachability', report: r });
  stats.reports++;
}

/** A double spend of a throwaway key the farmer made, reported by the farmer: real evidence, nothing at stake. */
function selfReport(w: World, h: Host, i: number, stats: MembershipStats): void {
  if (!h.up) return;
  const net = w.genesis.network;
  const throwaway = w.scheme.signer(sha256(utf8(`throwaway/${h.idHex}/${i}`)));
  const body = { from: throwaway.publicKey, amount: 1n, seq: 1, prev: new Uint8Array(32), memo: new Uint8Array(0) };
  const t1 = sign(TransferCodec, net, throwaway, { ...body, to: sha256(utf8('a')) });
  const t2 = sign(TransferCodec, net, throwaway, { ...body, to: sha256(utf8('b')) });
  const notice = sign(NoticeCodec, net, h.signer, { evidence: doubleSpendEvidence(t1, t2), reporter: h.id });
  w.route(h.index, { mint: true }, { type: 'notice', notice });
  stats.selfReports++;
}
