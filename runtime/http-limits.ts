// Limits on what one HTTP client can cost a node or the mint (docs/operators.md, HTTP
// limits): a request rate per client answered 429 with Retry-After, a cap on the
// long-polls (?wait=) one client holds open, and a budget on the peer-to-peer asks
// that requests fan out to, with misses remembered. Loopback clients (a local
// devnet, benchmarks, tests) get generous defaults; all of it is configurable.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Reason, Rejection } from '../protocol/errors.ts';

/** The configurable part (config.json keys, RINGMINT_* env, flags): shared by node and mint. */
export type HttpLimitConfig = {
  /** Requests per second one remote client (by IP) may make, sustained; twice this in a burst. 0: no limit. */
  httpRateLimit: number;
  /** The same for a loopback client. */
  httpLoopbackRateLimit: number;
  /** Long-polls (?wait=) one remote client may hold open at once. */
  httpLongPolls: number;
  /** The same for a loopback client (a benchmark's clients share one address). */
  httpLoopbackLongPolls: number;
  /** Bearer token GET /metrics asks for; empty: /metrics is open (bind the API to loopback then). */
  metricsToken: string;
};

export const HTTP_LIMIT_DEFAULTS: HttpLimitConfig = {
  httpRateLimit: 50,
  // A benchmark drives thousands of transfers a second through one loopback address.
  httpLoopbackRateLimit: 20_000,
  httpLongPolls: 16,
  httpLoopbackLongPolls: 4_096,
  metricsToken: '',
};

/** Clients whose rate is tracked at once; past this the least recently seen is forgotten. */
export const MAX_TRACKED_CLIENTS = 1 << 16;

/**
 * Server timeouts (fastify/node:http options). A request's headers and body must
 * arrive within these, so a slow-body client cannot hold a socket; an idle
 * keep-alive socket is closed after KEEP_ALIVE_TIMEOUT_MS. CONNECTION_TIMEOUT_MS
 * (socket inactivity) outlasts the longest ?wait= (MAX_WAIT_MS in http-common.ts).
 */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 10_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const CONNECTION_TIMEOUT_MS = 75_000;
/** How often node:http looks for requests past their timeouts. */
export const TIMEOUT_CHECK_MS = 1_000;

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** Per-client token buckets, in an LRU of MAX_TRACKED_CLIENTS. */
export class ClientRates {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  constructor(now: () => number = () => Date.now()) {
    this.now = now;
  }

  /** Takes one token for `client` at `perSec`; returns 0 when taken, else the seconds until one is there. */
  take(client: string, perSec: number): number {
    if (perSec <= 0) return 0;
    const now = this.now();
    const burst = perSec * 2;
    let b = this.buckets.get(client);
    if (b === undefined) b = { tokens: burst, at: now };
    else this.buckets.delete(client);
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSec);
    b.at = now;
    this.buckets.set(client, b);
    if (this.buckets.size > MAX_TRACKED_CLIENTS) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSec));
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** A refusal that carries Retry-After (seconds). */
export class RateLimited extends Rejection {
  readonly retryAfter: number;
  constructor(message: string, retryAfter: number) {
    super(Reason.RATE_LIMITED, message);
    this.retryAfter = retryAfter;
  }
}

/**
 * The per-client rate, as an onRequest hook: before the body is read, so a refused
 * client costs a lookup in a map (createHttp's error handler answers 429 and counts it).
 */
export function installRateLimit(app: FastifyInstance, cfg: HttpLimitConfig): ClientRates {
  const rates = new ClientRates();
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const ip = req.ip;
    const wait = rates.take(ip, isLoopback(ip) ? cfg.httpLoopbackRateLimit : cfg.httpRateLimit);
    if (wait > 0) throw new RateLimited('too many requests from this client', wait);
  });
  return rates;
}

/** Concurrent long-polls per client: acquire before waiting, release when answered. */
export class LongPolls {
  private readonly open = new Map<string, number>();
  private readonly cfg: HttpLimitConfig;
  constructor(cfg: HttpLimitConfig) {
    this.cfg = cfg;
  }

  /** Returns the release; throws RateLimited when the client already holds its share. */
  acquire(ip: string): () => void {
    const max = isLoopback(ip) ? this.cfg.httpLoopbackLongPolls : this.cfg.httpLongPolls;
    const n = this.open.get(ip) ?? 0;
    if (n >= max) throw new RateLimited(`at most ${max} requests waiting (?wait=) at once per client`, 1);
    this.open.set(ip, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.open.get(ip) ?? 1) - 1;
      if (left <= 0) this.open.delete(ip);
      else this.open.set(ip, left);
    };
  }

  /** Runs `fn` holding one long-poll slot of `ip`. */
  async hold<T>(ip: string, fn: () => Promise<T>): Promise<T> {
    const release = this.acquire(ip);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * What HTTP requests may ask of peers: a node-wide budget of peer asks (a token
 * bucket), one ask at a time per key (concurrent requests for the same id share it),
 * and misses remembered for MISS_TTL_MS in an LRU of MAX_MISSES, so requests for ids
 * nobody holds cost no asks. Bundle lookups (GET /transfers/:id, /receipts/:id for
 * ids this node lacks) get FANOUT_BURST asks, refilled at FANOUT_PER_SEC; account
 * reads (GET /accounts/..., which a client polls for many accounts at once, and whose
 * answers always exist) get the larger READS_BURST and READS_PER_SEC.
 */
export const FANOUT_BURST = 192;
export const FANOUT_PER_SEC = 96;
export const READS_BURST = 4_096;
export const READS_PER_SEC = 2_048;
export const MISS_TTL_MS = 1_000;
export const MAX_MISSES = 4_096;

export class FanOut {
  private tokens: number;
  private at: number;
  private readonly burst: number;
  private readonly perSec: number;
  private readonly misses = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  /** Peer asks made, and requests refused for want of budget (tests, metrics). */
  asked = 0;
  refused = 0;

  constructor(burst = FANOUT_BURST, perSec = FANOUT_PER_SEC, now: () => number = () => Date.now()) {
    this.burst = burst;
    this.perSec = perSec;
    this.tokens = burst;
    this.now = now;
    this.at = now();
  }

  /**
   * `ask` (which sends `peers` messages) unless the key missed within MISS_TTL_MS (then
   * null), or the budget is spent (RateLimited). A null answer is remembered as a miss
   * when `cacheMiss`.
   */
  async run<T>(key: string, peers: number, ask: () => Promise<T | null>, cacheMiss = true): Promise<T | null> {
    const now = this.now();
    const missed = this.misses.get(key);
    if (missed !== undefined) {
      if (missed > now) return null;
      this.misses.delete(key);
    }
    const same = this.inflight.get(key);
    if (same !== undefined) return same as Promise<T | null>;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSec);
    this.at = now;
    if (this.tokens < peers) {
      this.refused++;
      throw new RateLimited('this node is asking its peers too much for HTTP callers; retry shortly', Math.max(1, Math.ceil((peers - this.tokens) / this.perSec)));
    }
    this.tokens -= peers;
    this.asked += peers;
    const p = ask().then((v) => {
      if (v === null && cacheMiss) {
        this.misses.set(key, this.now() + MISS_TTL_MS);
        if (this.misses.size > MAX_MISSES) this.misses.delete(this.misses.keys().next().value!);
      }
      return v;
    }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}
