// The node daemon's options, their defaults and their checks (runtime/config.ts
// merges flags, environment and config.json onto these).
import { Reason, Rejection } from '../../protocol/errors.ts';
import { DEFAULT_NODE_OPTIONS } from '../core/api.ts';
import { HTTP_LIMIT_DEFAULTS, type HttpLimitConfig } from '../../runtime/http-limits.ts';

export type NodeConfig = {
  /** HTTP API, host:port (127.0.0.1 unless told otherwise). */
  api: string;
  /** libp2p listen multiaddrs. */
  listen: string[];
  /** Peers dialled at start (the mint's multiaddr at least), with /p2p/<peerId>. */
  bootstrap: string[];
  /** Genesis file; copied into the data dir on first start. */
  genesis: string;
  logLevel: string;
  /**
   * Milliseconds between anti-entropy rounds (protocol.md §7, Anti-entropy). Shorter
   * repairs a replica that missed a message sooner; each round costs work in proportion
   * to what changed since the last (every bundle stored since, every account that moved).
   */
  antiEntropyMs: number;
} & HttpLimitConfig;

export const NODE_DEFAULTS: NodeConfig = {
  api: '127.0.0.1:7700',
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: [],
  genesis: '',
  logLevel: 'info',
  antiEntropyMs: DEFAULT_NODE_OPTIONS.antiEntropyMs,
  ...HTTP_LIMIT_DEFAULTS,
};

/**
 * Anti-entropy intervals a node accepts: below a second a round would overlap the
 * last one's answers; above a day a lost message would wait a day to be repaired.
 */
export const ANTI_ENTROPY_MS_RANGE = { min: 1_000, max: 86_400_000 } as const;

/** Throws Rejection(BAD_REQUEST) naming the first bad option. */
export function checkNodeConfig(cfg: NodeConfig): void {
  const ae = cfg.antiEntropyMs;
  if (!Number.isInteger(ae) || ae < ANTI_ENTROPY_MS_RANGE.min || ae > ANTI_ENTROPY_MS_RANGE.max) {
    throw new Rejection(Reason.BAD_REQUEST, `antiEntropyMs must be an integer from ${ANTI_ENTROPY_MS_RANGE.min} to ${ANTI_ENTROPY_MS_RANGE.max}, got ${ae}`);
  }
}
