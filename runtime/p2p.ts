// The libp2p host of a node or the mint (protocol.md §3, 9): TCP + noise + yamux, identify,
// kad-dht for peer routing (bootstrap: the mint and configured peers), gossipsub for
// the mint's epochs, alerts and repudiations, and /ringmint/1/msg: one long-lived
// length-prefixed stream per peer and direction for every other message. What comes in
// passes the network edge first (docs/security.md): handshake slots and the connection
// gater (connection-limits.ts), the membership gate, budgets and scores
// (peer-inbound.ts, peer-gate.ts, peer-score.ts), and gossip validators.
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { gossipsub } from '@libp2p/gossipsub';
import { prometheusMetrics } from '@libp2p/prometheus-metrics';
import { multiaddr } from '@multiformats/multiaddr';
import type { PeerId, Stream } from '@libp2p/interface';
import { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import { toHex, fromHex, type Bytes } from '../protocol/bytes.ts';
import { decodeMessage, encodeMessage, writeMessage, type Message } from '../protocol/messages.ts';
import { Writer } from '../protocol/codec.ts';
import type { Address } from '../protocol/ports.ts';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from './framing.ts';
import { libp2pKey, nodeIdOfPeer, peerIdOfNode } from './keys.ts';
import type { Transport } from './driver.ts';
import type { DaemonMetrics } from './metrics.ts';
import { deferYamuxWindowUpdates } from './yamux-window.ts';
import { noiseCrypto } from './noise-crypto.ts';
import { PeerGate, RejectReason, type EpochSource } from './peer-gate.ts';
import { PeerBook, PeerLimits } from './peer-score.ts';
import { ConnectionLimits, PendingHandshakes, edgeGater, hexOfPeer } from './connection-limits.ts';
import { InboundStreams } from './peer-inbound.ts';
import { GossipTopics, gossipValidators } from './gossip-validator.ts';
import { Reason } from '../protocol/errors.ts';
import { publicKeyOf } from '../protocol/signature.ts';

export const MSG_PROTOCOL = '/ringmint/1/msg';
export const KAD_PROTOCOL = '/ringmint/1/kad';
export const Topics = GossipTopics;

/** Frames queued for one peer while its stream opens or drains (and at most PeerLimits.maxQueuedOutBytes); past it new frames are dropped (the protocol retries). */
const MAX_QUEUED_FRAMES = 16_384;
/** Opening a connection and stream to a peer gives up after this long. */
const DIAL_TIMEOUT_MS = 5_000;
/** A failed dial is not retried sooner than this, so a dead peer costs one dial per interval. */
const REDIAL_BACKOFF_MS = 1_000;
/** Streams of /ringmint/1/msg per connection: one each way is the norm; a few spare for reconnects. */
const MAX_MSG_STREAMS = 8;
/** Bootstrap peers are re-dialled this often while disconnected. */
const BOOTSTRAP_INTERVAL_MS = 3_000;

export type P2PInit = {
  readonly secretKey: Bytes;
  readonly network: string;
  readonly mintKey: Bytes;
  readonly listen: readonly string[];
  readonly bootstrap: readonly string[];
  /** Addresses of peers known from an earlier run, dialled once at start (a restart finds its ring at once). */
  readonly knownPeers?: readonly string[];
  readonly role: 'node' | 'mint';
  readonly log: Logger;
  readonly metrics: DaemonMetrics;
  /**
   * Every decoded message from a peer, direct or gossip. A promise returned is the
   * message's step: until it settles the message counts against its sender's
   * in-flight budget.
   */
  readonly onMessage: (from: Address, msg: Message) => void | Promise<unknown>;
  /**
   * The epochs whose members this host takes protocol messages from (docs/security.md,
   * Membership). Absent: every peer counts as a member (a host outside a ring, in tests).
   */
  readonly epochs?: EpochSource;
  /** A shorter partial-frame timeout than PeerLimits.partialFrameMs (tests). */
  readonly partialFrameMs?: number;
};

/**
 * One peer's outbound side. Frames waiting for the next write are encoded straight
 * into `pending` (length prefix, then the message), so a message costs no buffer of
 * its own: one allocation per write, not three per message (encode, frame, join).
 */
type Link = { stream: Stream | null; opening: boolean; pending: Writer; frames: number; flushScheduled: boolean; retryAt: number };

/** A peer's pending writer keeps at most this much buffer between writes (a burst may grow it further). */
const PENDING_KEEP_BYTES = 1 << 20;

/** Yamux's stream defaults but for the window's cap (streamOptions replaces them whole). */
const YAMUX_STREAMS = {
  initialStreamWindowSize: 256 * 1024,
  maxStreamWindowSize: PeerLimits.maxStreamWindowBytes,
  inactivityTimeout: PeerLimits.idleStreamMs,
  maxReadBufferLength: PeerLimits.maxReadBufferBytes,
} as const;

export class P2PHost implements Transport {
  readonly node: Libp2p;
  readonly peerId: PeerId;
  private readonly init: P2PInit;
  private readonly links = new Map<string, Link>();
  private readonly mintPeer: PeerId;
  private bootstrapTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Scores, budgets and bans of peers (bounded). */
  readonly peers: PeerBook;

  private constructor(node: Libp2p, init: P2PInit, peers: PeerBook) {
    this.node = node;
    this.peerId = node.peerId;
    this.init = init;
    this.mintPeer = peerIdOfNode(init.mintKey);
    this.peers = peers;
  }

  static async start(init: P2PInit): Promise<P2PHost> {
    deferYamuxWindowUpdates();
    const privateKey = await libp2pKey(init.secretKey);
    const selfHex = toHex(publicKeyOf(init.secretKey));
    let host: P2PHost | null = null;
    const peers = new PeerBook({ exempt: [toHex(init.mintKey), selfHex], onBan: (hex, ms) => host?.banned(hex, ms), onThrottle: (b) => init.metrics.peerThrottled.inc(b) });
    const pending = new PendingHandshakes(() => init.metrics.handshakesEvicted.inc());
    const node = await createLibp2p({
      privateKey,
      addresses: { listen: [...init.listen] },
      transports: [tcp()],
      connectionEncrypters: [noise({ crypto: noiseCrypto })],
      // A stream's receive window stays under the read buffer a paused stream may hold, so a
      // sender that keeps to flow control never overflows it (docs/security.md).
      streamMuxers: [yamux({ streamOptions: YAMUX_STREAMS })],
      connectionGater: edgeGater(peers, pending),
      connectionManager: {
        inboundConnectionThreshold: ConnectionLimits.perIpPerSecond,
        maxIncomingPendingConnections: ConnectionLimits.libp2pPendingCap,
        maxConnections: ConnectionLimits.maxConnections,
        inboundUpgradeTimeout: ConnectionLimits.upgradeTimeoutMs,
      },
      metrics: prometheusMetrics({ registry: init.metrics.registry, preserveExistingMetrics: true, collectDefaultMetrics: false }),
      services: {
        identify: identify(),
        // kad-dht needs ping to check routing-table peers
        ping: ping(),
        // eslint-disable-next-line -- kad-dht's component type lags libp2p's
        dht: kadDHT({ protocol: KAD_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper }) as never,
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          // Loopback devnets put every peer on one IP: the IP-colocation penalty (P6) would graylist them.
          scoreParams: { IPColocationFactorWeight: 0 },
        }),
      },
    });
    host = new P2PHost(node, init, peers);
    const h = host;
    const inbound = new InboundStreams({
      gate: new PeerGate(init.role, init.mintKey, init.epochs ?? null),
      peers,
      metrics: init.metrics,
      log: init.log,
      network: init.network,
      mintKey: init.mintKey,
      partialFrameMs: init.partialFrameMs ?? PeerLimits.partialFrameMs,
      handle: (from, msg) => h.handle(from, msg),
    });
    await node.handle(MSG_PROTOCOL, (stream, connection) => inbound.accept(stream, connection), {
      maxInboundStreams: MAX_MSG_STREAMS,
      maxOutboundStreams: MAX_MSG_STREAMS,
    });
    const pubsub = h.pubsub();
    const validators = gossipValidators({ network: init.network, mintKey: init.mintKey, mintPeer: h.mintPeer, epochs: init.role === 'node' ? (init.epochs ?? null) : null }, (from, why) => {
      init.metrics.peerRejected.inc(RejectReason.gossip);
      init.log.debug({ peer: from.toString(), why }, 'gossip rejected');
      const hex = hexOfPeer(from);
      if (hex !== null) peers.penalize(hex, 'gossip');
    });
    for (const [topic, fn] of validators) pubsub.topicValidators.set(topic, fn);
    if (init.role === 'node') for (const t of Object.values(Topics)) pubsub.subscribe(t);
    pubsub.addEventListener('message', (evt) => h.gossip(evt.detail));
    node.addEventListener('connection:open', () => init.metrics.peers.set(node.getConnections().length));
    node.addEventListener('connection:close', () => init.metrics.peers.set(node.getConnections().length));
    new Gauge({ name: 'ringmint_peers_banned', help: 'peers banned now (refused by the connection gater until their back-off ends)', registers: [init.metrics.registry], collect() { this.set(peers.bannedCount); } });
    new Gauge({ name: 'ringmint_handshakes_pending', help: 'inbound connections that have not finished their noise handshake', registers: [init.metrics.registry], collect() { this.set(pending.size); } });
    await node.start();
    h.dialBootstrap();
    for (const a of init.knownPeers ?? []) {
      try {
        node.dial(multiaddr(a), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch(() => {});
      } catch {
        // a bad line in the peers file is skipped
      }
    }
    h.bootstrapTimer = setInterval(() => h.dialBootstrap(), BOOTSTRAP_INTERVAL_MS);
    h.bootstrapTimer.unref();
    return h;
  }

  private pubsub() {
    return (this.node.services as { pubsub: ReturnType<ReturnType<typeof gossipsub>> }).pubsub;
  }

  /** Listen addresses with /p2p/<peerId>, for other peers' --bootstrap. */
  addrs(): string[] {
    return this.node.getMultiaddrs().map((a) => a.toString());
  }

  private dialBootstrap(): void {
    for (const a of this.init.bootstrap) {
      const ma = multiaddr(a);
      const peer = ma.getComponents().find((c) => c.name === 'p2p')?.value;
      if (peer !== undefined && peer === this.peerId.toString()) continue;
      if (peer !== undefined && this.node.getConnections().some((c) => c.remotePeer.toString() === peer)) continue;
      this.node.dial(ma, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch((e: unknown) => this.init.log.debug({ err: String(e), addr: a }, 'bootstrap dial failed'));
    }
  }

  /** A decoded message to the daemon; what it returns is the message's step (counted in flight until it settles). */
  private handle(from: Address, msg: Message): void | Promise<unknown> {
    this.init.metrics.messagesIn.inc(msg.type);
    try {
      return this.init.onMessage(from, msg);
    } catch (e) {
      this.init.metrics.messagesDropped.inc({ why: 'handler' });
      this.init.log.error({ err: e, type: msg.type }, 'message handler threw');
    }
  }

  /** A peer went under the score threshold: drop its connections, queued frames and stream. */
  private banned(peerHex: string, ms: number): void {
    this.init.metrics.peerBans.inc();
    this.init.log.warn({ peer: peerHex.slice(0, 16), seconds: Math.round(ms / 1000) }, 'peer banned');
    const link = this.links.get(peerHex);
    if (link !== undefined) {
      link.stream?.abort(new Error('peer banned'));
      this.links.delete(peerHex);
    }
    this.node.hangUp(peerIdOfNode(fromHex(peerHex))).catch(() => {});
  }

  private gossip(m: { topic: string; data: Uint8Array; type: string; from?: PeerId }): void {
    // Only the mint publishes on these topics; its objects are mint-signed and checked again by the machine.
    if (m.type !== 'signed' || m.from === undefined || !m.from.equals(this.mintPeer)) {
      this.init.metrics.messagesDropped.inc({ why: 'gossip-origin' });
      return;
    }
    let msg: Message;
    try {
      msg = decodeMessage(this.init.network, m.data);
    } catch {
      this.init.metrics.messagesDropped.inc({ why: 'malformed' });
      return;
    }
    this.handle({ mint: true }, msg);
  }

  send(to: Address, msg: Message): void {
    if (this.stopped) return;
    // Gateways check a transfer's signature before asking for votes: one that sends a
    // transfer whose signature fails did not.
    if (msg.type === 'reject' && msg.code === Reason.BAD_SIGNATURE && 'node' in to) this.peers.penalize(to.node, 'badSignature');
    if ('broadcast' in to) {
      const bytes = encodeMessage(msg);
      const topic = msg.type === 'epoch' ? Topics.epochs : msg.type === 'alert' ? Topics.alerts : Topics.repudiations;
      this.pubsub().publish(topic, bytes).catch((e: unknown) => this.init.log.warn({ err: String(e), topic }, 'gossip publish failed'));
      return;
    }
    // Peers by lower-case hex, as machines address them (no parse and re-format per message).
    const peerHex = 'mint' in to ? this.mintHex() : to.node;
    if (peerHex === this.selfHex()) {
      // A machine addressing itself (e.g. a gateway that is also a custodian): loop back,
      // after this step, the message itself. Machines never mutate what they send or
      // receive (the simulator passes objects between nodes the same way), and what one
      // checked or signed keeps its memos; encoding and decoding it again (4.5 messages a
      // transfer in a 4-node ring, each then checked afresh) only cost.
      const from: Address = this.init.role === 'mint' ? { mint: true } : { node: peerHex };
      queueMicrotask(() => this.handle(from, msg));
      return;
    }
    this.enqueue(peerHex, msg);
  }

  private selfHexCache: string | null = null;
  private selfHex(): string {
    return (this.selfHexCache ??= toHex(nodeIdOfPeer(this.peerId)!));
  }
  private mintHexCache: string | null = null;
  private mintHex(): string {
    return (this.mintHexCache ??= toHex(this.init.mintKey));
  }

  private enqueue(peerHex: string, msg: Message): void {
    let link = this.links.get(peerHex);
    if (link === undefined) this.links.set(peerHex, (link = { stream: null, opening: false, pending: new Writer(4096), frames: 0, flushScheduled: false, retryAt: 0 }));
    if (link.frames >= MAX_QUEUED_FRAMES || link.pending.length >= PeerLimits.maxQueuedOutBytes) {
      this.init.metrics.messagesDropped.inc({ why: 'queue-full' });
      return;
    }
    const w = link.pending;
    const start = w.length;
    try {
      w.u32(0);
      writeMessage(w, msg);
    } catch (e) {
      w.truncate(start);
      throw e;
    }
    const size = w.length - start - FRAME_HEADER_BYTES;
    if (size > MAX_FRAME_BYTES) {
      w.truncate(start);
      this.init.metrics.messagesDropped.inc({ why: 'oversized-out' });
      this.init.log.warn({ type: msg.type, bytes: size }, 'message over 64 KiB not sent');
      return;
    }
    w.patchU32(start, size);
    link.frames++;
    if (link.stream === null) {
      this.open(peerHex, link);
      return;
    }
    if (!link.flushScheduled) {
      link.flushScheduled = true;
      // Coalesce every frame of this turn of the event loop into one write: every
      // step that ran on one inbound chunk, or that one synced batch released, goes
      // out as one yamux frame, one noise encryption and one socket write per peer
      // (a microtask would flush after the first step, a write per step).
      setImmediate(() => this.flush(link));
    }
  }

  /** Drops the frames waiting for a peer (counted), e.g. when it cannot be dialled. */
  private dropPending(link: Link): void {
    this.init.metrics.messagesDropped.inc({ why: 'unreachable' }, link.frames);
    link.pending.reset();
    link.frames = 0;
  }

  private open(peerHex: string, link: Link): void {
    if (link.opening || this.stopped) return;
    if (Date.now() < link.retryAt) {
      // Too soon after a failed dial: drop what is queued (the protocol retries) rather than hold it forever.
      this.dropPending(link);
      return;
    }
    link.opening = true;
    const peer = peerIdOfNode(fromHex(peerHex));
    this.node
      .dialProtocol(peer, MSG_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      .then((stream) => {
        link.opening = false;
        if (this.stopped) return void stream.abort(new Error('stopping'));
        link.stream = stream;
        stream.addEventListener('close', () => {
          if (link.stream === stream) link.stream = null;
        });
        stream.addEventListener('drain', () => this.flush(link));
        this.flush(link);
      })
      .catch((e: unknown) => {
        link.opening = false;
        link.retryAt = Date.now() + REDIAL_BACKOFF_MS;
        this.dropPending(link);
        this.init.log.debug({ err: String(e), peer: peerHex.slice(0, 16) }, 'dial failed');
      });
  }

  private flush(link: Link): void {
    link.flushScheduled = false;
    const stream = link.stream;
    if (stream === null || link.frames === 0) return;
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') {
      link.stream = null;
      return;
    }
    if (stream.writableNeedsDrain) return; // 'drain' calls flush again
    const out = link.pending.finish();
    if (link.pending.capacity > PENDING_KEEP_BYTES) link.pending = new Writer(4096);
    else link.pending.reset();
    link.frames = 0;
    this.init.metrics.streamWrites.inc();
    try {
      stream.send(out);
    } catch (e) {
      link.stream = null;
      this.init.log.debug({ err: String(e) }, 'stream send failed');
    }
  }

  /** Addresses (with /p2p/) of the peers we are connected to, for the next start. */
  peerAddrs(): string[] {
    const out = new Set<string>();
    for (const c of this.node.getConnections()) {
      if (c.direction !== 'outbound') continue; // an inbound connection's remote port is ephemeral
      const a = c.remoteAddr.toString();
      out.add(a.includes('/p2p/') ? a : `${a}/p2p/${c.remotePeer.toString()}`);
    }
    return [...out];
  }

  /** Peers we hold a connection to, as node ids (hex). */
  connectedNodes(): string[] {
    const out: string[] = [];
    for (const c of this.node.getConnections()) {
      const id = nodeIdOfPeer(c.remotePeer);
      if (id) out.push(toHex(id));
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.bootstrapTimer) clearInterval(this.bootstrapTimer);
    await this.node.stop();
  }
}
