// What the node's and the mint's HTTP APIs share: fastify with a 64 KiB body limit and
// server timeouts, per-client limits (http-limits.ts), errors as 4xx/503 JSON {error,
// message} with reason codes, bearer-token checks and the /metrics route.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ZodError } from 'zod';
import { Reason, Rejection, type ReasonCode } from '../protocol/errors.ts';
import type { DaemonMetrics } from './metrics.ts';
import {
  CONNECTION_TIMEOUT_MS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS, TIMEOUT_CHECK_MS, RateLimited, installRateLimit, type HttpLimitConfig,
} from './http-limits.ts';

/** protocol.md §2 / docs/api.md: request bodies are at most 64 KiB. */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const TOKEN_FILE = 'api-token';

/** HTTP status of each reason code; anything unlisted is a 400. */
const STATUS: Partial<Record<ReasonCode, number>> = {
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  CONFLICT: 409,
  FROZEN: 409,
  SEQ_USED: 409,
  RATE_LIMITED: 429,
  SUPPLY_CAP: 422,
  INSUFFICIENT_FUNDS: 422,
  OVERSIZED: 413,
  TIMEOUT: 503,
  UNAVAILABLE: 503,
  NOT_SYNCED: 503,
};

export function statusOf(code: ReasonCode): number {
  return STATUS[code] ?? 400;
}

export type ErrorBody = { error: string; message: string; [extra: string]: unknown };

/** Maps anything thrown by a handler to a status and body; never leaks a stack. */
export function errorReply(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof Rejection) return { status: statusOf(e.code), body: { error: e.code, message: e.message } };
  if (e instanceof ZodError) {
    const first = e.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') + ': ' : '';
    return { status: 400, body: { error: Reason.BAD_REQUEST, message: where + (first?.message ?? 'bad request') } };
  }
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe.statusCode === 413 ? Reason.OVERSIZED : fe.statusCode === 404 ? Reason.NOT_FOUND : Reason.BAD_REQUEST;
    return { status: fe.statusCode, body: { error: code, message: fe.message ?? code } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: 'internal error' } };
}

/** Every route an app registered ("GET /status"), for the test that compares them with docs/api.md. */
const routesOf = new WeakMap<FastifyInstance, string[]>();
export function registeredRoutes(app: FastifyInstance): readonly string[] {
  return routesOf.get(app) ?? [];
}

/**
 * Fastify with the body limit, the server timeouts (runtime/http-limits.ts) and, when
 * `limits` are given, the per-client request rate.
 */
export function createHttp(log: Logger, metrics: DaemonMetrics | null, limits?: HttpLimitConfig): FastifyInstance {
  // Fastify's own request logging is off: one line per request is too much at 1000 transfers/s.
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS },
  });
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
  });
  routesOf.set(app, routes);
  const httpLog = log.child({ part: 'http' });
  app.setErrorHandler((e, req, reply) => {
    const { status, body } = errorReply(e);
    if (status >= 500) httpLog.error({ err: e, url: req.url }, 'request failed');
    else httpLog.debug({ url: req.url, error: body.error }, 'request refused');
    if (status === 429) {
      metrics?.httpRateLimited.inc({ route: req.routeOptions.url ?? 'unknown' });
      void reply.header('retry-after', String(e instanceof RateLimited ? e.retryAfter : 1));
    }
    void reply.code(status).send(body);
  });
  if (limits) installRateLimit(app, limits);
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: Reason.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  if (metrics) {
    app.addHook('onResponse', async (req, reply) => {
      metrics.httpRequests.inc({ route: req.routeOptions.url ?? 'unknown', code: String(reply.statusCode) });
    });
  }
  return app;
}

/** GET /metrics; with a token (HttpLimitConfig.metricsToken) it asks for `Authorization: Bearer <token>`. */
export function metricsRoute(app: FastifyInstance, registry: Registry, token = ''): void {
  app.get('/metrics', token !== '' ? { preHandler: requireToken(token) } : {}, async (_req, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

/** The operator token in `dir`, made on first use (mode 0600). */
export function loadOrCreateToken(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, TOKEN_FILE);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const token = randomBytes(24).toString('hex');
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return token;
}

/** A preHandler that requires `Authorization: Bearer <token>`. */
export function requireToken(token: string) {
  const want = Buffer.from(token);
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const h = req.headers.authorization ?? '';
    const got = Buffer.from(h.startsWith('Bearer ') ? h.slice(7).trim() : '');
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Rejection(Reason.UNAUTHORIZED, 'missing or wrong bearer token');
  };
}

/** ?wait= and ?timeoutMs= of POST /transfers and POST /issue. */
export { WAIT_LEVELS, type WaitLevel } from '../protocol/wait-levels.ts';
/** A caller may wait at most this long for a transfer to reach a status. */
export const MAX_WAIT_MS = 60_000;
export const DEFAULT_WAIT_MS = 10_000;
/** List routes answer pages: ?limit= items (default DEFAULT_PAGE, at most MAX_PAGE) after the ?after= cursor. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1_000;
