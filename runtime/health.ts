// Liveness and readiness for the node's and the mint's HTTP APIs (docs/api.md):
// GET /healthz answers 200 while the process serves HTTP at all; GET /readyz answers
// 200 only when every check passes, else 503 with the first failing check as the
// reason. Container healthchecks and load balancers read them; neither needs a token.
import type { FastifyInstance } from 'fastify';

/** One readiness check: its name, whether it holds, and what was seen. */
export type Check = { readonly name: string; readonly ok: boolean; readonly detail: string };

export type Readiness = { readonly ready: boolean; readonly reason: string | null; readonly checks: readonly Check[] };

/** The checks in order; the first that fails names the reason. */
export function readiness(checks: readonly Check[]): Readiness {
  const failed = checks.find((c) => !c.ok);
  return { ready: failed === undefined, reason: failed ? `${failed.name}: ${failed.detail}` : null, checks };
}

/** A check of "at least `need` of something", with what was counted. */
export function atLeast(name: string, have: number, need: number, what: string): Check {
  return { name, ok: have >= need, detail: `${have} ${what} (needs ${need})` };
}

/** Registers GET /healthz and GET /readyz. `probe` must not throw; if it does, /readyz says so as a 503. */
export function healthRoutes(app: FastifyInstance, role: 'node' | 'mint', probe: () => Readiness): void {
  const startedAt = Date.now();
  app.get('/healthz', async () => ({ status: 'ok', role, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }));
  app.get('/readyz', async (_req, reply) => {
    let r: Readiness;
    try {
      r = probe();
    } catch (e) {
      r = readiness([{ name: 'probe', ok: false, detail: (e as Error).message }]);
    }
    const body = { ready: r.ready, role, ...(r.reason !== null ? { error: 'NOT_READY', reason: r.reason } : {}), checks: r.checks };
    return reply.code(r.ready ? 200 : 503).send(body);
  });
}
