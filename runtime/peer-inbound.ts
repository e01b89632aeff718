// Inbound /ringmint/1/msg streams (docs/security.md): each read is split into frames
// (linear in its bytes), each frame passes the membership gate on its first byte
// before it is decoded, and the sender's budgets and score are kept. A frame left
// half sent past the partial-frame timeout, an oversized frame header, or a sender
// that overflows a paused stream's read buffer ends the stream and costs score.
import type { Connection, Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import { equal, toHex, type Bytes } from '../protocol/bytes.ts';
import { decodeMessage, type Message } from '../protocol/messages.ts';
import type { Address } from '../protocol/ports.ts';
import { FrameDecoder } from './framing.ts';
import { nodeIdOfPeer } from './keys.ts';
import type { DaemonMetrics } from './metrics.ts';
import { RejectReason, type PeerGate, type RejectReasonCode } from './peer-gate.ts';
import { PeerLimits, type PeerBook, type PeerState, type PenaltyKind } from './peer-score.ts';

/** What a peer that sends a frame the gate refuses is charged (a non-member: see PeerBook.nonMemberFrame). */
const PENALTY_OF: Partial<Record<RejectReasonCode, PenaltyKind>> = { 'wrong-type': 'wrongType', 'over-budget': 'overBudget' };

export type InboundInit = {
  readonly gate: PeerGate;
  readonly peers: PeerBook;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  readonly network: string;
  readonly mintKey: Bytes;
  readonly partialFrameMs: number;
  /** A decoded message; a promise returned counts against the sender's in-flight budget until it settles. */
  readonly handle: (from: Address, msg: Message) => void | Promise<unknown>;
};

export class InboundStreams {
  private readonly init: InboundInit;

  constructor(init: InboundInit) {
    this.init = init;
  }

  private reject(reason: RejectReasonCode): void {
    this.init.metrics.peerRejected.inc(reason);
  }

  /** A peer opened a message stream to us. */
  accept(stream: Stream, connection: Connection): void {
    const { peers } = this.init;
    const id = nodeIdOfPeer(connection.remotePeer);
    if (id === null) {
      stream.abort(new Error('not an Ed25519 peer'));
      return;
    }
    const peerHex = toHex(id);
    if (peers.isBanned(peerHex)) {
      this.reject(RejectReason.banned);
      stream.abort(new Error('peer banned'));
      return;
    }
    const from: Address = equal(id, this.init.mintKey) ? { mint: true } : { node: peerHex };
    const ps = peers.state(peerHex);
    ps.streams.add(stream);
    // Bytes held while the stream is paused: past it the sender ignored flow control.
    stream.maxReadBufferLength = PeerLimits.maxReadBufferBytes;
    stream.inactivityTimeout = PeerLimits.idleStreamMs;
    if (peers.held(ps)) stream.pause();
    const decoder = new FrameDecoder();
    // When the frame now being received began (0: none). A frame begun must finish
    // within partialFrameMs: a sender dribbling one never does. Frames that finish
    // restart the clock, so a busy stream whose reads never end on a frame boundary is fine.
    let partialSince = 0;
    let partialTimer: NodeJS.Timeout | null = null;
    const armPartial = (ms: number) => {
      partialTimer = setTimeout(() => {
        partialTimer = null;
        if (partialSince === 0) return;
        const left = partialSince + this.init.partialFrameMs - Date.now();
        if (left > 0) return armPartial(left);
        this.reject(RejectReason.partialTimeout);
        stream.abort(new Error('frame not finished in time'));
        peers.penalize(peerHex, 'partialTimeout');
      }, ms);
      partialTimer.unref();
    };
    stream.addEventListener('message', (evt) => {
      const chunk = evt.data.subarray();
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        this.reject(RejectReason.oversized);
        this.init.metrics.messagesDropped.inc({ why: 'oversized' });
        stream.abort(e as Error);
        peers.penalize(peerHex, 'oversized');
        return;
      }
      if (decoder.buffered === 0) partialSince = 0;
      else if (frames.length > 0 || partialSince === 0) partialSince = Date.now();
      if (partialSince !== 0 && partialTimer === null) armPartial(this.init.partialFrameMs);
      for (const f of frames) {
        if (stream.status !== 'open') break; // banned or aborted by an earlier frame
        this.frame(peerHex, from, ps, f);
      }
      const wait = peers.charge(ps, chunk.length, frames.length);
      if (wait > 0 && stream.status === 'open') {
        this.init.metrics.peerThrottled.inc('rate');
        peers.pauseUntil(ps, Date.now() + wait);
      }
    });
    stream.addEventListener('close', (evt) => {
      if (partialTimer !== null) clearTimeout(partialTimer);
      ps.streams.delete(stream);
      // Reset for holding too much while paused: the sender ignored flow control.
      if ((evt as { error?: Error }).error?.name === 'StreamBufferError') peers.penalize(peerHex, 'readOverflow');
    });
  }

  /**
   * One frame from a peer: the gate first (its key and the frame's first byte), then
   * decoding, then the daemon. A refused frame costs nothing past the gate.
   */
  private frame(peerHex: string, from: Address, ps: PeerState, f: Uint8Array): void {
    const { peers } = this.init;
    const v = this.init.gate.check(peerHex, f.length === 0 ? -1 : f[0]!);
    if (!v.ok) {
      this.reject(v.reason);
      if (v.reason === RejectReason.nonMember) peers.nonMemberFrame(peerHex);
      else {
        const kind = PENALTY_OF[v.reason];
        if (kind !== undefined) peers.penalize(peerHex, kind);
      }
      return;
    }
    if (!v.member && !peers.joinAllowed(peerHex)) {
      // The mint: a join request from a non-member, past its budget.
      this.reject(RejectReason.overBudget);
      peers.penalize(peerHex, 'overBudget');
      return;
    }
    let msg: Message;
    try {
      msg = decodeMessage(this.init.network, f);
    } catch (e) {
      this.reject(RejectReason.malformed);
      this.init.metrics.messagesDropped.inc({ why: 'malformed' });
      this.init.log.debug({ err: String(e) }, 'malformed message dropped');
      peers.penalize(peerHex, 'malformed');
      return;
    }
    const step = this.init.handle(from, msg);
    if (step === undefined) return;
    peers.startInFlight(ps);
    const end = () => peers.endInFlight(ps);
    step.then(end, end);
  }
}
