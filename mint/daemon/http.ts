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
import { createHttp, DEFAULT_WAIT_MS, MAX_WAIT_MS, metricsRoute, requireToken, WAIT_LEVELS, type WaitLevel } from '../../runtime/http-common.ts';
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
};

const issueBody = z.object({
  to: z.string(),
  amount: z.string(),
  memo: z.string().optional(),
});
const admitBody = z.union([z.object({ nodeId: z.string() }), z.object({ peerId: z.string() })]);
const waitQuery = z.object({
  wait: z.enum(WAIT_LEVELS).optional(),
  timeoutMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).optional(),
});

export function buildMintHttp(d: MintApiDeps): FastifyInstance {
  const app = createHttp(d.log, d.metrics);
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
    const stored = await d.waitStored(transfer, q.timeoutMs ?? DEFAULT_WAIT_MS);
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

  app.get('/reputation', async () => ({
    scores: [...d.machine.reputation()].map(([nodeId, score]) => ({ nodeId, score })),
    events: d.machine.reputationEvents().map((e) => ({ seq: e.seq, nodeId: toHex(e.node), delta: e.delta, score: e.score, reason: e.reason, epoch: e.epoch, at: e.at, sig: toHex(e.sig) })),
  }));

  app.get('/notices', async () => ({
    notices: d.machine.notices().map((n) => ({ reporter: toHex(n.notice.reporter), kind: n.notice.evidence.kind, verdict: n.verdict, at: n.at })),
  }));

  healthRoutes(app, 'mint', () => d.ready?.() ?? readiness([]));
  metricsRoute(app, d.metrics.registry);
  return app;
}
