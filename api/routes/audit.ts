import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../domain/validate.ts';
import { listAudit } from '../../store/audit.ts';
import type { ApiContext } from '../context.ts';
import { filterParam, integerParam } from '../query-params.ts';

/** Query of `GET /v1/audit`. */
export const AuditQuery = z.strictObject({
  planId: filterParam().optional(),
  workload: filterParam().optional(),
  kind: filterParam().optional(),
  fromSeq: integerParam(0, 2_147_483_647).optional(),
  limit: integerParam(1, 5000).default(500),
});

/** `/v1/audit`: the hash-chained audit trail, in chain order. */
export function registerAuditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/audit', async (request) => {
    ctx.auth.require(request, 'viewer');
    const filter = parseOrThrow(AuditQuery, request.query, 'invalid query');
    return { items: await listAudit(ctx.db, filter) };
  });
}
