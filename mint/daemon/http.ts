// The mint's HTTP API (docs/api.md): status, issuance and admission (operator
// token), epochs, reputation, notices, metrics.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { decodeAddress } from '../../protocol/address.ts';
import { toHex, utf8, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { GenesisJson } from '../../protocol/genesis.ts';
import { epochToHex, parseBaseUnits } from '../../protocol/json.ts';
import { Limits, transferId as transferIdOf, type Transfer } from '../../protocol/objects.ts';
import type { MintMachine } from '../core/mint-machine.ts';
import { createHttp, DEFAULT_PAGE, DEFAULT_WAIT_MS, MAX_PAGE, MAX_WAIT_MS, metricsRoute, requireToken, WAIT_LEVELS, type WaitLevel } from '../../runtime/http-common.ts';
import { HTTP_LIMIT_DEFAULTS, LongPolls, type HttpLimitConfig } from '../../runtime/http-limits.ts';
import { parseNodeRef } from '../../runtime/keys.ts';
import type { DaemonMetrics } from '../../runtime/metrics.ts';
import { healthRoutes, readiness, type Readiness } from '../../runtime/health.ts';

export type MintApiDeps = {
  readonly machine: MintMachine;
  readonly genesisJson: GenesisJson;
  readonly token: string;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  issue(to: Bytes, amount: bigint, memo: Bytes): Promise<{ transfer: Transfer; gateway: string | null }>;
  /** Resolves true once the issuance's bundle is found at its storage nodes (which implies final and credited). */
  waitStored(transfer: Transfer, timeoutMs: number): Promise<boolean>;
  admit(node: Bytes): Promise<void>;
  /** GET /readyz (mint/daemon/health.ts); absent, the mint counts as ready once it serves. */
  ready?(): Readiness;
  /** Per-client limits and the /metrics token (default HTTP_LIMIT_DEFAULTS). */
  readonly limits?: HttpLimitConfig;
};

const issueBody = z.object({
  to: z.string(),
  amount: z.string(),
  memo: z.string().optional(),
});
const admitBody = z.union([z.object({ nodeId: z.string() }), z.object({ peerId: z.string() })]);
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
  after: z.coerce.number().int().min(0).optional(),
});
const waitQuery = z.object({
  wait: z.enum(WAIT_LEVELS).optional(),
  timeoutMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).optional(),
});

export function buildMintHttp(d: MintApiDeps): FastifyInstance {
  const limits = d.limits ?? HTTP_LIMIT_DEFAULTS;
  const app = createHttp(d.log, d.metrics, limits);
  const polls = new LongPolls(limits);
  const operator = { preHandler: requireToken(d.token) };

  app.get('/status', async () => {
    const e = d.machine.currentEpoch();
    return {
      network: d.genesisJson.network,
      mintKey: d.genesisJson.mintKey,
      epoch: e.epoch,
      members: e.members.length,
      issued: d.machine.issuedTotal().toString(),
      supplyCap: d.genesisJson.supplyCap,
      pendingAdmissions: d.machine.pendingAdmissions().length,
      pendingIssuances: d.machine.pendingIssuanceCount(),
    };
  });

  app.get('/genesis', async () => d.genesisJson);

  app.post<{ Querystring: Record<string, string> }>('/issue', operator, async (req, reply) => {
    const body = issueBody.parse(req.body);
    const q = waitQuery.parse(req.query);
    const to = decodeAddress(body.to);
    const amount = parseBaseUnits(body.amount);
    const memo = utf8(body.memo ?? '');
    if (memo.length > Limits.MEMO_BYTES) throw new Rejection(Reason.BAD_MEMO, `memo exceeds ${Limits.MEMO_BYTES} bytes`);
    const { transfer, gateway } = await d.issue(to, amount, memo);
    const transferId = toHex(transferIdOf(transfer));
    if (q.wait === undefined) return reply.code(202).send({ transferId, status: 'pending', gateway });
    const stored = await polls.hold(req.ip, () => d.waitStored(transfer, q.timeoutMs ?? DEFAULT_WAIT_MS));
    // The mint sees issuances only through their stored bundles: "stored" implies final and credited.
    return reply.code(stored ? 200 : 202).send({ transferId, status: stored ? 'stored' : 'pending', gateway, wait: q.wait satisfies WaitLevel });
  });

  app.post('/admit', operator, async (req) => {
    const body = admitBody.parse(req.body);
    const node = parseNodeRef('nodeId' in body ? body.nodeId : body.peerId);
    await d.admit(node);
    return { nodeId: toHex(node), effective: 'next epoch' };
  });

  app.get<{ Params: { n: string } }>('/epochs/:n', async (req) => {
    const n = z.coerce.number().int().min(0).parse(req.params.n);
    const e = d.machine.epoch(n);
    if (!e) throw new Rejection(Reason.NOT_FOUND, `no epoch ${n}`);
    return { epoch: n, record: epochToHex(e) };
  });

  // Pages (docs/api.md, Pagination): events after the ?after= seq; scores by node id after ?afterNode=.
  app.get<{ Querystring: Record<string, string> }>('/reputation', async (req) => {
    const page = pageQuery.extend({ afterNode: z.string().regex(/^[0-9a-f]{0,64}$/).optional() }).parse(req.query);
    const limit = page.limit ?? DEFAULT_PAGE;
    const after = page.after ?? 0;
    const all = d.machine.reputationEvents();
    const from = all.findIndex((e) => e.seq > after);
    const events = from < 0 ? [] : all.slice(from, from + limit);
    const afterNode = page.afterNode ?? '';
    const nodes = [...d.machine.reputation()].filter(([nodeId]) => nodeId > afterNode).sort(([a], [b]) => (a < b ? -1 : 1));
    const scores = nodes.slice(0, limit);
    return {
      scores: scores.map(([nodeId, score]) => ({ nodeId, score })),
      events: events.map((e) => ({ seq: e.seq, nodeId: toHex(e.node), delta: e.delta, score: e.score, reason: e.reason, epoch: e.epoch, at: e.at, sig: toHex(e.sig) })),
      ...(from >= 0 && from + limit < all.length ? { next: events[events.length - 1]!.seq } : {}),
      ...(nodes.length > limit ? { nextNode: scores[scores.length - 1]![0] } : {}),
    };
  });

  // Notices in the order the mint heard them; ?after= is the index of the last one a caller has (from 1).
  app.get<{ Querystring: Record<string, string> }>('/notices', async (req) => {
    const page = pageQuery.parse(req.query);
    const limit = page.limit ?? DEFAULT_PAGE;
    const after = page.after ?? 0;
    const all = d.machine.notices();
    const slice = all.slice(after, after + limit);
    return {
      notices: slice.map((n, i) => ({ index: after + i + 1, reporter: toHex(n.notice.reporter), kind: n.notice.evidence.kind, verdict: n.verdict, at: n.at })),
      ...(after + limit < all.length ? { next: after + limit } : {}),
    };
  });

  healthRoutes(app, 'mint', () => d.ready?.() ?? readiness([]));
  metricsRoute(app, d.metrics.registry, limits.metricsToken);
  return app;
}
