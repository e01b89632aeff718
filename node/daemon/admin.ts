// The node's operator routes, behind its API token (DATA/api-token):
// GET /admin/backup streams a consistent backup of the store (node/daemon/backup.ts).
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../../runtime/http-common.ts';

export type NodeAdmin = {
  readonly token: string;
  /** The backup's chunks, from one store snapshot taken when called. */
  backup(): AsyncIterable<Uint8Array>;
};

export function registerAdmin(app: FastifyInstance, admin: NodeAdmin): void {
  const operator = { preHandler: requireToken(admin.token) };
  app.get('/admin/backup', operator, async (_req, reply) => {
    void reply.header('content-type', 'application/octet-stream');
    void reply.header('content-disposition', 'attachment; filename="ringmint-node.backup"');
    return reply.send(Readable.from(admin.backup()));
  });
}
