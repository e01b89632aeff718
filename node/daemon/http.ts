// The node's HTTP API (docs/api.md): status, ring, epochs, accounts (asked of their
// custodians), transfers (this node as gateway), receipts (asked of storage nodes),
// alerts and metrics. Only signed transfers come in; no account key ever does.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { decodeAddress, encodeAddress } from '../../protocol/address.ts';
import { fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import { nativeBackend } from '../../protocol/signature.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { GenesisJson } from '../../protocol/genesis.ts';
import type { AccountState } from '../../protocol/handoff-codec.ts';
import { bundleToHex, epochToHex, transferFromJson, transferToJson } from '../../protocol/json.ts';
import { encodeWith, transferId, transferIdHex, writeAlert, writeCertificate, type Bundle, type EpochRecord, type Transfer } from '../../protocol/objects.ts';
import { position } from '../../protocol/ring.ts';
import type { AccountHistory, NodeMachineApi, TransferView } from '../core/api.ts';
import { agree, type ReplicaView } from '../core/read-quorum.ts';
import { createHttp, statusOf, DEFAULT_PAGE, DEFAULT_WAIT_MS, MAX_PAGE, MAX_WAIT_MS, metricsRoute } from '../../runtime/http-common.ts';
import { reached, WAIT_LEVELS, type WaitLevel } from '../../protocol/wait-levels.ts';
import { FANOUT_BURST, FANOUT_PER_SEC, FanOut, HTTP_LIMIT_DEFAULTS, LongPolls, READS_BURST, READS_PER_SEC, type HttpLimitConfig } from '../../runtime/http-limits.ts';
import { registerHistory } from './history.ts';
import { honestReporters } from '../core/handoff-pool.ts';
import { healthRoutes, readiness, type Readiness } from '../../runtime/health.ts';
import { registerAdmin, type NodeAdmin } from './admin.ts';
import { peerIdOfNode } from '../../runtime/keys.ts';
import type { DaemonMetrics } from '../../runtime/metrics.ts';

export const VERSION = '0.1.0';

export type NodeApiDeps = {
  readonly network: string;
  readonly genesisJson: GenesisJson;
  readonly machine: NodeMachineApi;
  readonly peerId: string;
  readonly startedAt: number;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  /** Runs machine.submit as a driver step; resolves once its writes are durable and its messages sent. */
  submit(t: Transfer): Promise<void>;
  /** Resolves with the view once the transfer reached `level` (or an end state), or on timeout with the latest view. */
  waitFor(id: Bytes, level: WaitLevel, timeoutMs: number): Promise<TransferView | undefined>;
  /** States of `account` by custodian (hex id), this node's own replica included when it is one. */
  askAccount(account: Bytes): Promise<{ asked: number; answers: ReplicaView[] }>;
  findBundle(transferId: Bytes): Promise<Bundle | null>;
  epoch(n: number): EpochRecord | undefined;
  /** Where this node stands in the ring (member, catching up, outside and joining, evicted and re-joining). */
  membership?(): MembershipView;
  /** Optional: histories of `account` by custodian (this node's replica included); enables GET /accounts/:address/history. */
  askHistory?(account: Bytes): Promise<{ asked: number; answers: AccountHistory[] }>;
  /** GET /readyz (node/daemon/health.ts); absent, the node counts as ready once it serves. */
  ready?(): Readiness;
  /** Operator routes behind the node's token (GET /admin/backup); absent, none. */
  admin?: NodeAdmin;
  /** Per-client limits and the /metrics token (default HTTP_LIMIT_DEFAULTS). */
  readonly limits?: HttpLimitConfig;
};

export type MembershipView = {
  readonly state: 'member' | 'catching-up' | 'joining' | 'evicted';
  /** The newest epoch this node knows exists. */
  readonly knownEpoch: number;
  readonly note: string;
};

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes of lowercase hex');
const transferBody = z.object({ transfer: z.record(z.string(), z.unknown()) });
/** ?limit= and ?after= of the list routes (docs/api.md, Pagination). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
  after: z.coerce.number().int().min(0).optional(),
});
const waitQuery = z.object({
  wait: z.enum(WAIT_LEVELS).optional(),
  timeoutMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).optional(),
});

export function transferViewJson(v: TransferView): Record<string, unknown> {
  return {
    transferId: toHex(v.transferId),
    status: v.status,
    ...(v.reason !== undefined ? { reason: v.reason } : {}),
    ...(v.detail !== undefined ? { detail: v.detail } : {}),
    ...(v.transfer ? { transfer: transferToJson(v.transfer) } : {}),
    ...(v.certificate ? { certificate: toHex(encodeWith(v.certificate, writeCertificate)) } : {}),
    // Once credited: the bundle (certificate + q receipts), so a wallet checks "credited" itself.
    ...(v.bundle ? { bundle: bundleToHex(v.bundle) } : {}),
    times: v.times,
  };
}

/** A rejected or conflicting transfer answers with its code, as 4xx. */
function failure(v: TransferView): Rejection | null {
  if (v.status === 'rejected') return new Rejection(v.reason ?? Reason.BAD_REQUEST, v.detail ?? `transfer rejected: ${v.reason}`);
  if (v.status === 'conflict') return new Rejection(Reason.CONFLICT, v.detail ?? 'another transfer holds this (from, seq)');
  return null;
}

export function buildNodeHttp(d: NodeApiDeps): FastifyInstance {
  const limits = d.limits ?? HTTP_LIMIT_DEFAULTS;
  const app = createHttp(d.log, d.metrics, limits);
  const polls = new LongPolls(limits);
  // Peer asks on behalf of HTTP callers: budgeted, shared per key, misses remembered.
  const fanOut = new FanOut(FANOUT_BURST, FANOUT_PER_SEC);
  const reads = new FanOut(READS_BURST, READS_PER_SEC);
  const k = () => d.machine.currentEpoch().k;
  const findBundle = async (id: Bytes): Promise<Bundle | null> => d.machine.bundle(id) ?? (await fanOut.run(`b/${toHex(id)}`, k(), () => d.findBundle(id)));
  const askAccount = async (account: Bytes) => (await reads.run(`a/${toHex(account)}`, k(), () => d.askAccount(account), false))!;

  app.get('/status', async () => {
    const e = d.machine.currentEpoch();
    return {
      network: d.network,
      nodeId: toHex(d.machine.id),
      peerId: d.peerId,
      epoch: e.epoch,
      members: e.members.length,
      k: e.k,
      q: e.q,
      version: VERSION,
      // Which native Ed25519 library this process loaded (libsodium, or node:crypto where its addon is missing).
      ed25519: nativeBackend,
      uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000),
      ...(d.membership ? { membership: d.membership() } : {}),
    };
  });

  app.get('/genesis', async () => d.genesisJson);

  app.get('/ring', async () => {
    const e = d.machine.currentEpoch();
    return {
      epoch: e.epoch,
      k: e.k,
      q: e.q,
      members: e.members.map((m) => ({ nodeId: toHex(m), peerId: peerIdOfNode(m).toString(), position: toHex(position(m)) })),
    };
  });

  app.get<{ Params: { n: string } }>('/epochs/:n', async (req) => {
    const n = z.coerce.number().int().min(0).parse(req.params.n);
    const e = d.epoch(n);
    if (!e) throw new Rejection(Reason.NOT_FOUND, `epoch ${n} not known to this node`);
    return { epoch: n, record: epochToHex(e) };
  });

  app.get<{ Params: { address: string } }>('/accounts/:address', async (req) => {
    const account = decodeAddress(req.params.address);
    const { asked, answers } = await askAccount(account);
    const s = agree(answers);
    if (s === null) throw new Rejection(Reason.UNAVAILABLE, `none of ${asked} custodians answered`);
    return {
      address: encodeAddress(account),
      balance: s.balance.toString(),
      seq: s.seq,
      head: s.head,
      frozen: s.frozen,
      custodians: { asked, answered: answers.length },
    };
  });

  app.post<{ Querystring: Record<string, string> }>('/transfers', async (req, reply) => {
    const body = transferBody.parse(req.body);
    const q = waitQuery.parse(req.query);
    const t = transferFromJson(body.transfer, d.network);
    await d.submit(t);
    const id = transferId(t);
    let view = d.machine.transfer(id);
    const wait = q.wait;
    if (view && !failure(view) && wait) {
      const seen = view;
      view = (await polls.hold(req.ip, () => d.waitFor(id, wait, q.timeoutMs ?? DEFAULT_WAIT_MS))) ?? seen;
    }
    if (!view) throw new Rejection(Reason.UNAVAILABLE, 'the gateway did not take the transfer');
    const f = failure(view);
    if (f) {
      return reply.code(view.status === 'conflict' ? 409 : statusOf(f.code)).send({ error: f.code, message: f.message, transferId: toHex(id), status: view.status });
    }
    const met = q.wait !== undefined && reached(view.status, q.wait);
    return reply.code(met ? 200 : 202).send({ transferId: toHex(id), status: view.status });
  });

  app.get<{ Params: { id: string } }>('/transfers/:id', async (req) => {
    const id = fromHex(hex32.parse(req.params.id));
    const v = d.machine.transfer(id);
    if (v) return transferViewJson(v);
    // Not handled here (or the gateway restarted: its views are not kept): a stored bundle still answers.
    const b = await findBundle(id);
    if (b) return { transferId: toHex(id), status: 'stored', transfer: transferToJson(b.certificate.transfer), certificate: toHex(encodeWith(b.certificate, writeCertificate)), bundle: bundleToHex(b), times: {} };
    throw new Rejection(Reason.NOT_FOUND, 'transfer not known to this node nor stored on the ring (ask its gateway)');
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, string> }>('/receipts/:id', async (req) => {
    const id = fromHex(hex32.parse(req.params.id));
    // ?local=true: this node's own copy only (an operator counting a bundle's replicas).
    const local = req.query.local === 'true';
    const b = local ? d.machine.bundle(id) : await findBundle(id);
    if (!b) throw new Rejection(Reason.NOT_FOUND, 'no stored receipt bundle for this transfer (yet)');
    return { transferId: toHex(id), bundle: bundleToHex(b) };
  });

  app.get<{ Querystring: Record<string, string> }>('/alerts', async (req) => {
    const page = pageQuery.parse(req.query);
    const limit = page.limit ?? DEFAULT_PAGE;
    // Alerts are in alertSeq order; ?after= is the last alertSeq a caller has.
    const all = d.machine.alerts();
    const after = page.after ?? 0;
    const from = all.findIndex((a) => a.alertSeq > after);
    const slice = from < 0 ? [] : all.slice(from, from + limit);
    const more = from >= 0 && from + limit < all.length;
    return {
      alerts: slice.map((a) => {
      const ev = a.notice.evidence;
      return {
        alertSeq: a.alertSeq,
        kind: ev.kind,
        frozen: ev.kind === 'double-spend' ? [encodeAddress(ev.t1.from)] : [],
        ...(ev.kind === 'equivocation' ? { node: toHex(ev.v1.voter) } : {}),
        alert: toHex(encodeWith(a, writeAlert)),
      };
      }),
      ...(more ? { next: slice[slice.length - 1]!.alertSeq } : {}),
    };
  });

  if (d.askHistory) {
    const askHistory = d.askHistory;
    registerHistory(app, {
      askHistory: async (account) => (await reads.run(`h/${toHex(account)}`, k(), () => askHistory(account), false))!,
      findBundle,
      honest: () => {
        const e = d.machine.currentEpoch();
        return honestReporters(e.k, e.q);
      },
    });
  }

  healthRoutes(app, 'node', () => d.ready?.() ?? readiness([]));
  if (d.admin) registerAdmin(app, d.admin);
  metricsRoute(app, d.metrics.registry, limits.metricsToken);
  return app;
}
