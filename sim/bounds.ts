// R1, resource bounds: what each live honest node holds in memory stays within what
// honest work explains plus a fixed slack (params.checks.resourceSlack), however much a
// Byzantine peer sends. Honest work bounds every count here: a node cannot rightly hold
// more accounts than exist (wallets and the mint), nor more locks, credits, bundles or
// gateway views than there are transfers. A count past its bound is state an attacker
// created; a flood of one message kind (byzantine.ts) makes such growth show in a short run.
//
// The counts come from the machine's held() and activeTransfers where it exposes them,
// and, for state it does not expose (gateway views, open lookups, pending pulls, the
// custodian's notice set), by reading its fields where present: observation only, and a
// field that is renamed or gone is skipped, never guessed.
import type { NodeMachineApi } from '../node/core/api.ts';
import { MAX_PARKED_VIEWS } from '../node/core/gateway-views.ts';
import { MAX_LONE_CREDITS_PER_REPORTER } from '../node/core/lone-credits.ts';
import type { Host } from './host.ts';

type Probe = { readonly name: string; readonly read: (m: NodeMachineApi) => number | undefined; readonly limit: (honest: HonestWork) => number };

/**
 * What honest work can put in a node: every account, every transfer (issuances
 * included); and the Byzantine members, each of which the node lets hold a named
 * budget of its own (lone credits: node/core/lone-credits.ts).
 */
export type HonestWork = { readonly accounts: number; readonly transfers: number; readonly liars: number };

function field(m: unknown, ...path: string[]): number | undefined {
  let o: unknown = m;
  for (const p of path) {
    if (typeof o !== 'object' || o === null) return undefined;
    o = (o as Record<string, unknown>)[p];
  }
  if (o instanceof Map || o instanceof Set) return o.size;
  if (Array.isArray(o)) return o.length;
  return typeof o === 'number' ? o : undefined;
}

export const PROBES: readonly Probe[] = [
  { name: 'custodian accounts', read: (m) => m.held?.().accounts, limit: (w) => w.accounts },
  { name: 'locks', read: (m) => m.held?.().locks, limit: (w) => w.transfers },
  { name: 'credits', read: (m) => m.held?.().credits, limit: (w) => w.transfers },
  { name: 'stored bundles', read: (m) => m.held?.().bundles, limit: (w) => w.transfers },
  // Credits one reporter alone lists cost that reporter's budget: a liar's made-up ones are bounded by it, not by honest work.
  { name: 'reported credits', read: (m) => m.held?.().reportedCredits, limit: (w) => w.transfers + w.liars * MAX_LONE_CREDITS_PER_REPORTER },
  // Views that ended without a certificate (rejected, forged) are an LRU of MAX_PARKED_VIEWS: the node's own bound.
  { name: 'gateway views', read: (m) => field(m, 'gateway', 'views', 'byId'), limit: (w) => w.transfers + MAX_PARKED_VIEWS },
  { name: 'gateway active transfers', read: (m) => field(m, 'activeTransfers'), limit: (w) => w.transfers },
  { name: 'open lookups', read: (m) => field(m, 'storage', 'waiting'), limit: (w) => w.transfers },
  { name: 'pending pulls', read: (m) => field(m, 'handoff', 'pulls'), limit: (w) => w.accounts },
  { name: 'noticed double spends', read: (m) => field(m, 'custodian', 'noticed'), limit: (w) => w.accounts },
  // A transfer starts or restarts a node's watch at most twice (its vote, its certificate); passed starts are compacted away.
  { name: 'completion queue', read: (m) => m.completionStats?.().queued, limit: (w) => 2 * w.transfers },
  { name: 'future epochs', read: (m) => field(m, 'futureEpochs'), limit: () => 0 },
];

/** The first bound a live honest node exceeds, as one line; null when all hold (or slack is 0: off). */
export function checkBounds(hosts: readonly Host[], honest: HonestWork, slack: number): string | null {
  if (slack <= 0) return null;
  for (const h of hosts) {
    if (!h.up || !h.honest || h.machine === null) continue;
    for (const p of PROBES) {
      const n = p.read(h.machine);
      if (n === undefined) continue;
      const limit = p.limit(honest) + slack;
      if (n > limit) return `node ${h.index} holds ${n} ${p.name}; honest work explains at most ${p.limit(honest)} (+ ${slack} slack)`;
    }
  }
  return null;
}
