// Questions a node's HTTP API asks other nodes over libp2p and waits for: an
// account's state from its custodians ('account-pull' -> 'account-state') and a
// stored bundle from its storage nodes ('lookup' -> 'lookup-reply'). Answers that
// match an open question are taken here; the rest go to the machine as usual.
import { toHex, type Bytes } from '../protocol/bytes.ts';
import type { AccountState } from '../protocol/handoff-codec.ts';
import type { Message } from '../protocol/messages.ts';
import { transferId, type Bundle, type EpochRecord } from '../protocol/objects.ts';
import { checkBundle } from '../protocol/certificate.ts';
import { Rejection } from '../protocol/errors.ts';
import { Ring } from '../protocol/ring.ts';
import type { Verifier } from '../protocol/signature.ts';
import type { Address } from '../protocol/ports.ts';

/** How long an HTTP caller waits for peers' answers; slow or dead peers are left out. */
export const QUERY_TIMEOUT_MS = 2_000;

type AccountAsk = { readonly peers: Set<string>; readonly answers: Map<string, AccountState>; readonly done: () => void };
type LookupAsk = { readonly peers: Set<string>; found: Bundle | null; answered: number; readonly done: () => void };

/**
 * Whether a bundle answering a lookup holds: its certificate's votes and its receipts
 * check against the known epochs. Without one only the transfer id is compared.
 */
export type BundleCheck = (bundle: Bundle) => boolean;

/**
 * A BundleCheck over the epoch records `epochOf` knows (the mint's own, for its
 * issuances), with one Ring per epoch kept in a small cache.
 */
export function epochBundleCheck(network: string, verifier: Verifier, epochOf: (n: number) => EpochRecord | undefined): BundleCheck {
  const rings = new Map<number, Ring>();
  const ringOf = (n: number): Ring | undefined => {
    let r = rings.get(n);
    if (r !== undefined) return r;
    const e = epochOf(n);
    if (e === undefined) return undefined;
    if (rings.size >= 16) rings.delete(rings.keys().next().value!);
    rings.set(n, (r = new Ring(e)));
    return r;
  };
  return (bundle) => {
    try {
      checkBundle(bundle, { network, verifier, ringOf });
      return true;
    } catch (e) {
      if (e instanceof Rejection) return false;
      throw e;
    }
  };
}

export class Queries {
  private readonly accounts = new Map<string, Set<AccountAsk>>();
  private readonly lookups = new Map<string, Set<LookupAsk>>();
  private readonly checkBundle: BundleCheck;

  constructor(checkBundle: BundleCheck = () => true) {
    this.checkBundle = checkBundle;
  }

  /** Asks `peers` (node ids, hex) for `account`; resolves with the answers by peer once all answered or on timeout. */
  askAccount(account: Bytes, epoch: number, peers: string[], send: (to: Address, msg: Message) => void, timeoutMs = QUERY_TIMEOUT_MS): Promise<Map<string, AccountState>> {
    const key = toHex(account);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const ask: AccountAsk = {
        peers: new Set(peers),
        answers: new Map(),
        done: () => {
          clearTimeout(timer);
          this.accounts.get(key)?.delete(ask);
          if (this.accounts.get(key)?.size === 0) this.accounts.delete(key);
          resolve(ask.answers);
        },
      };
      timer = setTimeout(ask.done, timeoutMs);
      let set = this.accounts.get(key);
      if (!set) this.accounts.set(key, (set = new Set()));
      set.add(ask);
      if (peers.length === 0) return ask.done();
      for (const p of peers) send({ node: p }, { type: 'account-pull', account, epoch });
    });
  }

  /** Asks storage nodes for a bundle; resolves with the first found, or null when all said no or on timeout. */
  askBundle(transferId: Bytes, peers: string[], send: (to: Address, msg: Message) => void, timeoutMs = QUERY_TIMEOUT_MS): Promise<Bundle | null> {
    const key = toHex(transferId);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const ask: LookupAsk = {
        peers: new Set(peers),
        found: null,
        answered: 0,
        done: () => {
          clearTimeout(timer);
          this.lookups.get(key)?.delete(ask);
          if (this.lookups.get(key)?.size === 0) this.lookups.delete(key);
          resolve(ask.found);
        },
      };
      timer = setTimeout(ask.done, timeoutMs);
      let set = this.lookups.get(key);
      if (!set) this.lookups.set(key, (set = new Set()));
      set.add(ask);
      if (peers.length === 0) return ask.done();
      for (const p of peers) send({ node: p }, { type: 'lookup', transferId });
    });
  }

  /** Takes a message that answers an open question; returns true when it was taken. */
  take(from: Address, msg: Message): boolean {
    if (!('node' in from)) return false;
    if (msg.type === 'account-state') {
      const set = this.accounts.get(toHex(msg.state.account));
      if (!set) return false;
      let taken = false;
      for (const ask of [...set]) {
        if (!ask.peers.has(from.node) || ask.answers.has(from.node)) continue;
        // Pages after the first only add credits: the header fields are all we show.
        ask.answers.set(from.node, msg.state);
        taken = true;
        if (ask.answers.size === ask.peers.size) ask.done();
      }
      return taken;
    }
    if (msg.type === 'lookup-reply') {
      const key = toHex(msg.transferId);
      const set = this.lookups.get(key);
      if (!set) return false;
      // A bundle for another transfer, or one whose votes or receipts do not hold, counts as "not found".
      let bundle = msg.bundle;
      if (bundle !== null && (toHex(transferId(bundle.certificate.transfer)) !== key || !this.checkBundle(bundle))) bundle = null;
      let taken = false;
      for (const ask of [...set]) {
        if (!ask.peers.has(from.node)) continue;
        taken = true;
        ask.answered++;
        if (bundle !== null) ask.found = bundle;
        if (bundle !== null || ask.answered === ask.peers.size) ask.done();
      }
      return taken;
    }
    return false;
  }
}
