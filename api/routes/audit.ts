import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../domain/validate.ts';
import { listAudit } from '../../store/audit.ts';
import type { ApiContext } from '../context.ts';

const AuditQuery = z.object({
  planId: z.string().min(1).optional(),
  workload: z.string().min(1).optional(),
  kind: z.string().min(1).optional(),
  fromSeq: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

/** `/v1/audit`: the hash-chained audit trail, in chain order. */
export function registerAuditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/audit', async (request) => {
    ctx.auth.require(request, 'viewer');
    const filter = parseOrThrow(AuditQuery, request.query, 'invalid query');
    return { items: await listAudit(ctx.db, filter) };
  });
}
