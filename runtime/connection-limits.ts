// Limits on connections before a peer has proved a key (docs/security.md, Connections).
// A TCP connection that has not finished its noise handshake holds a handshake slot;
// idle sockets that never speak would hold them all and lock honest peers out. Slots
// are bounded in total and per IP, and when they are full the OLDEST pending handshake
// is dropped for the new one: an honest handshake takes milliseconds, so it finishes
// long before enough newer connections arrive to push it out, while a socket that
// never speaks is pushed out by the next arrival.
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface';
import { toHex } from '../protocol/bytes.ts';
import { nodeIdOfPeer } from './keys.ts';
import type { PeerBook } from './peer-score.ts';

export const ConnectionLimits = {
  /** Handshakes (TCP accepted, noise not finished) held at once. */
  pendingTotal: 256,
  /** Of those, from one IP address. */
  pendingPerIp: 64,
  /** libp2p's own cap, a backstop above ours: ours evicts, libp2p's refuses. */
  libp2pPendingCap: 1_024,
  /** A handshake not finished in this long is dropped (libp2p inboundUpgradeTimeout). */
  upgradeTimeoutMs: 5_000,
  /** New inbound connections from one IP a second (libp2p inboundConnectionThreshold); loopback devnets open dozens at once. */
  perIpPerSecond: 1_000,
  /** Open connections in all (libp2p maxConnections). */
  maxConnections: 1_000,
} as const;

function ipOf(maConn: MultiaddrConnection): string {
  for (const c of maConn.remoteAddr.getComponents()) if (c.name === 'ip4' || c.name === 'ip6') return c.value ?? '';
  return '';
}

export class PendingHandshakes {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly all = new Set<MultiaddrConnection>();
  private readonly byIp = new Map<string, Set<MultiaddrConnection>>();
  private readonly onEvict: () => void;
  private readonly limits: { pendingTotal: number; pendingPerIp: number };

  constructor(onEvict: () => void, limits: { pendingTotal: number; pendingPerIp: number } = ConnectionLimits) {
    this.onEvict = onEvict;
    this.limits = limits;
  }

  get size(): number {
    return this.all.size;
  }

  /** A new inbound connection: takes a slot, pushing out the oldest pending one of its IP or of all if full. */
  admit(maConn: MultiaddrConnection): void {
    const ip = ipOf(maConn);
    let mine = this.byIp.get(ip);
    if (mine === undefined) this.byIp.set(ip, (mine = new Set()));
    if (mine.size >= this.limits.pendingPerIp) this.evict(mine.values().next().value!);
    if (this.all.size >= this.limits.pendingTotal) this.evict(this.all.values().next().value!);
    this.all.add(maConn);
    mine.add(maConn);
    maConn.addEventListener('close', () => this.done(maConn), { once: true });
  }

  /** The handshake finished (or the connection closed): its slot is free. */
  done(maConn: MultiaddrConnection): void {
    if (!this.all.delete(maConn)) return;
    const ip = ipOf(maConn);
    const mine = this.byIp.get(ip);
    mine?.delete(maConn);
    if (mine?.size === 0) this.byIp.delete(ip);
  }

  private evict(maConn: MultiaddrConnection): void {
    this.done(maConn);
    this.onEvict();
    try {
      maConn.abort(new Error('handshake slot given to a newer connection'));
    } catch {
      // already closed
    }
  }
}

/** A peer's node id in hex, or null for a peer without an Ed25519 key. */
export function hexOfPeer(peer: PeerId): string | null {
  const id = nodeIdOfPeer(peer);
  return id === null ? null : toHex(id);
}

/**
 * The host's connection gater: every inbound connection takes a handshake slot until
 * its noise handshake is done; banned peers and peers without an Ed25519 key (never
 * a node or the mint) are refused once their key is known, both ways, and never dialled.
 */
export function edgeGater(peers: PeerBook, pending: PendingHandshakes): ConnectionGater {
  const refused = (peer: PeerId): boolean => {
    const hex = hexOfPeer(peer);
    return hex === null || peers.isBanned(hex);
  };
  return {
    denyDialPeer: refused,
    denyInboundConnection: (maConn) => {
      pending.admit(maConn);
      return false;
    },
    denyInboundEncryptedConnection: (peer, maConn) => {
      pending.done(maConn);
      return refused(peer);
    },
    denyOutboundEncryptedConnection: refused,
  };
}
