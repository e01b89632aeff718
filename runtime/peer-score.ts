// Per-peer budgets, scores and bans (docs/security.md, Peer budgets and scores). A peer's
// traffic is metered by token buckets (messages and bytes a second); over budget,
// its streams are paused until the buckets refill, so yamux flow control holds the
// sender back: throttled, never punished, since honest peers under full load may
// reach a budget too. Misbehaviour costs score: malformed or oversized frames,
// transfers whose signature fails, messages from a non-member past its small
// allowance, junk gossip. At or under BAN_AT the peer is banned: its connections are
// closed, its streams and queues freed, and the connection gater refuses it for a
// back-off that doubles with each ban. All state here is bounded (PEERS_TRACKED).
import type { Stream } from '@libp2p/interface';

export const PeerLimits = {
  /** Frames (or reads, whichever is more) a peer may send a second, sustained; a burst may reach twice that. */
  messagesPerSecond: 20_000,
  messageBurst: 40_000,
  /** Bytes a peer may send a second, sustained, and in a burst. */
  bytesPerSecond: 32 * 1024 * 1024,
  byteBurst: 64 * 1024 * 1024,
  /** Messages from one peer handed to the machine and not yet durable; past it the peer's streams pause. */
  maxInFlight: 1_024,
  /** Frames a non-member may send that are dropped without cost to its score (an epoch change seen late). */
  nonMemberBurst: 1_000,
  nonMemberPerSecond: 100,
  /** Join requests the mint takes from one non-member (a node asks every 3 s while outside). */
  joinBurst: 10,
  joinPerSecond: 1,
  /** Join requests the mint takes from all non-members together. */
  joinsTotalBurst: 1_000,
  joinsTotalPerSecond: 200,
  /** Bytes a paused inbound stream may hold before it is reset (the sender ignored flow control). */
  maxReadBufferBytes: 4 * 1024 * 1024,
  /** A stream's yamux receive window grows to at most this: under maxReadBufferBytes, with room for a frame. */
  maxStreamWindowBytes: 2 * 1024 * 1024,
  /** Bytes queued for one peer on our side; past it new frames are dropped (the protocol retries). */
  maxQueuedOutBytes: 8 * 1024 * 1024,
  /** A frame begun and not finished within this long aborts its stream. */
  partialFrameMs: 10_000,
  /** A message stream with no traffic either way for this long is closed (reopened on demand). */
  idleStreamMs: 120_000,
} as const;

export const Score = {
  /** A new peer's score, and the most it recovers to. */
  start: 100,
  /** Points regained a second, up to `start`. */
  recoverPerSecond: 2,
  /** At or under this the peer is banned. */
  banAt: 0,
} as const;

/** What each kind of misbehaviour costs. */
export const Penalty = {
  malformed: 10,
  oversized: 50,
  wrongType: 10,
  badSignature: 10,
  nonMember: 1,
  overBudget: 1,
  partialTimeout: 20,
  readOverflow: 50,
  gossip: 10,
} as const;
export type PenaltyKind = keyof typeof Penalty;

export const Ban = {
  /** The first ban lasts this long; each further ban of the same peer doubles it, up to maxMs. */
  firstMs: 60_000,
  maxMs: 3_600_000,
} as const;

/** Peers with a score or ban kept; past it the oldest idle entry is forgotten. */
export const PEERS_TRACKED = 4_096;

type Bucket = { tokens: number; at: number };

function take(b: Bucket, now: number, rate: number, burst: number, n: number): number {
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
  b.at = now;
  b.tokens -= n;
  // Milliseconds until the bucket is back to zero (0: within budget).
  return b.tokens >= 0 ? 0 : Math.ceil((-b.tokens / rate) * 1000);
}

/**
 * Resumes a stream. A stream's resume() hands what it buffered to the 'message'
 * listener first and tells the muxer to let the sender go on after: when that
 * listener pauses the stream again (a budget used up by the buffered frames), the
 * stream stays paused but yamux would send window updates again, and the sender
 * would fill the read buffer until the stream is reset. The pause is told to the
 * muxer again here.
 */
function resume(st: Stream): void {
  st.resume();
  if (st.readStatus === 'paused') (st as unknown as { sendPause(): void }).sendPause();
}

export type PeerState = {
  score: number;
  scoredAt: number;
  messages: Bucket;
  bytes: Bucket;
  nonMember: Bucket;
  joins: Bucket;
  inFlight: number;
  /** Open inbound message streams, paused and resumed together, aborted on a ban. */
  readonly streams: Set<Stream>;
  resumeAt: number;
  resumeTimer: NodeJS.Timeout | null;
  paused: boolean;
  bans: number;
};

export type PeerBookInit = {
  /** A peer went under the threshold: close its connections and free what it holds. */
  readonly onBan: (peerHex: string, ms: number) => void;
  /** A peer's streams were paused for a budget (counted). */
  readonly onThrottle?: (budget: 'rate' | 'in-flight') => void;
  /** Peers never scored (this host and the mint). */
  readonly exempt: readonly string[];
  readonly now?: () => number;
};

export class PeerBook {
  private readonly peers = new Map<string, PeerState>();
  private readonly banned = new Map<string, number>();
  /** Bans each peer has had, kept past the bans themselves so the back-off grows (bounded like the rest). */
  private readonly strikes = new Map<string, number>();
  private readonly joinsTotal: Bucket;
  private readonly init: PeerBookInit;
  private readonly now: () => number;
  private readonly exempt: Set<string>;

  constructor(init: PeerBookInit) {
    this.init = init;
    this.now = init.now ?? Date.now;
    this.exempt = new Set(init.exempt);
    this.joinsTotal = { tokens: PeerLimits.joinsTotalBurst, at: this.now() };
  }

  get tracked(): number {
    return this.peers.size;
  }
  get bannedCount(): number {
    return this.banned.size;
  }

  state(peerHex: string): PeerState {
    let s = this.peers.get(peerHex);
    if (s !== undefined) return s;
    const now = this.now();
    s = {
      score: Score.start, scoredAt: now,
      messages: { tokens: PeerLimits.messageBurst, at: now },
      bytes: { tokens: PeerLimits.byteBurst, at: now },
      nonMember: { tokens: PeerLimits.nonMemberBurst, at: now },
      joins: { tokens: PeerLimits.joinBurst, at: now },
      inFlight: 0, streams: new Set(), resumeAt: 0, resumeTimer: null, paused: false,
      bans: this.strikes.get(peerHex) ?? 0,
    };
    if (this.peers.size >= PEERS_TRACKED) this.forgetOne();
    this.peers.set(peerHex, s);
    return s;
  }

  /** Forgets the oldest entry with no open stream and nothing in flight (or, failing that among the first few, the oldest). */
  private forgetOne(): void {
    let looked = 0;
    for (const [hex, s] of this.peers) {
      if ((s.streams.size === 0 && s.inFlight === 0) || ++looked > 64) {
        if (s.resumeTimer) clearTimeout(s.resumeTimer);
        this.peers.delete(hex);
        return;
      }
    }
  }

  isBanned(peerHex: string): boolean {
    const until = this.banned.get(peerHex);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.banned.delete(peerHex);
    return false;
  }

  score(peerHex: string): number {
    const s = this.peers.get(peerHex);
    if (s === undefined) return Score.start;
    this.recover(s);
    return s.score;
  }

  private recover(s: PeerState): void {
    const now = this.now();
    s.score = Math.min(Score.start, s.score + ((now - s.scoredAt) / 1000) * Score.recoverPerSecond);
    s.scoredAt = now;
  }

  /** Lowers a peer's score; bans it at the threshold. Returns whether it is banned now. */
  penalize(peerHex: string, kind: PenaltyKind, times = 1): boolean {
    if (this.exempt.has(peerHex)) return false;
    if (this.isBanned(peerHex)) return true;
    const s = this.state(peerHex);
    this.recover(s);
    s.score -= Penalty[kind] * times;
    if (s.score > Score.banAt) return false;
    this.ban(peerHex, s);
    return true;
  }

  private ban(peerHex: string, s: PeerState): void {
    s.bans++;
    const ms = Math.min(Ban.maxMs, Ban.firstMs * 2 ** (s.bans - 1));
    if (this.banned.size >= PEERS_TRACKED) this.banned.delete(this.banned.keys().next().value!);
    this.banned.set(peerHex, this.now() + ms);
    this.strikes.delete(peerHex);
    if (this.strikes.size >= PEERS_TRACKED) this.strikes.delete(this.strikes.keys().next().value!);
    this.strikes.set(peerHex, s.bans);
    for (const st of s.streams) st.abort(new Error('peer banned'));
    s.streams.clear();
    if (s.resumeTimer) clearTimeout(s.resumeTimer);
    // A banned peer comes back, after its ban, with a fresh score and the ban count it had.
    this.peers.delete(peerHex);
    this.init.onBan(peerHex, ms);
  }

  /**
   * Charges one read of `bytes` bytes holding `frames` frames. Returns the milliseconds
   * the peer's streams should pause for (0: within budget). A read counts as at least
   * one message, so a frame dribbled in 1-byte writes costs its sender one message a byte.
   */
  charge(s: PeerState, bytes: number, frames: number): number {
    const now = this.now();
    const a = take(s.messages, now, PeerLimits.messagesPerSecond, PeerLimits.messageBurst, Math.max(1, frames));
    const b = take(s.bytes, now, PeerLimits.bytesPerSecond, PeerLimits.byteBurst, bytes);
    return Math.max(a, b);
  }

  /** A frame from a non-member: within its allowance it is dropped at no cost, past it it costs score. */
  nonMemberFrame(peerHex: string): void {
    const s = this.state(peerHex);
    if (take(s.nonMember, this.now(), PeerLimits.nonMemberPerSecond, PeerLimits.nonMemberBurst, 1) > 0) this.penalize(peerHex, 'nonMember');
  }

  /** A join request from a non-member (the mint): whether it is within the per-peer and total budgets. */
  joinAllowed(peerHex: string): boolean {
    const s = this.state(peerHex);
    const now = this.now();
    if (take(s.joins, now, PeerLimits.joinPerSecond, PeerLimits.joinBurst, 1) > 0) {
      s.joins.tokens += 1; // not taken
      return false;
    }
    if (take(this.joinsTotal, now, PeerLimits.joinsTotalPerSecond, PeerLimits.joinsTotalBurst, 1) > 0) {
      this.joinsTotal.tokens += 1;
      s.joins.tokens += 1;
      return false;
    }
    return true;
  }

  /** Pauses a peer's inbound streams until `until` (ms since the epoch); a later call may extend it. */
  pauseUntil(s: PeerState, until: number): void {
    if (until <= s.resumeAt) return;
    s.resumeAt = until;
    this.pause(s);
    if (s.resumeTimer) clearTimeout(s.resumeTimer);
    s.resumeTimer = setTimeout(() => {
      s.resumeTimer = null;
      this.maybeResume(s);
    }, Math.max(1, until - this.now()));
    s.resumeTimer.unref?.();
  }

  /** Whether a peer's streams are held now (a new stream of it starts paused). */
  held(s: PeerState): boolean {
    return s.resumeTimer !== null || s.inFlight >= PeerLimits.maxInFlight;
  }

  private pause(s: PeerState): void {
    s.paused = true;
    for (const st of s.streams) if (st.readStatus === 'readable') st.pause();
  }

  /** Resumes a peer's streams once neither its rate nor its in-flight count holds them. */
  private maybeResume(s: PeerState): void {
    if (!s.paused || s.resumeTimer !== null || s.inFlight > PeerLimits.maxInFlight / 2) return;
    s.paused = false;
    for (const st of s.streams) if (st.readStatus === 'paused') resume(st);
  }

  /** A message handed to the machine; endInFlight when it is durable (or dropped). */
  startInFlight(s: PeerState): void {
    s.inFlight++;
    if (s.inFlight >= PeerLimits.maxInFlight && !s.paused) {
      this.init.onThrottle?.('in-flight');
      this.pause(s);
    }
  }
  endInFlight(s: PeerState): void {
    s.inFlight--;
    if (s.paused) this.maybeResume(s);
  }

  /** Ends every timer (the host is stopping). */
  stop(): void {
    for (const s of this.peers.values()) if (s.resumeTimer) clearTimeout(s.resumeTimer);
    this.peers.clear();
  }
}
