import type { FastifyRequest } from 'fastify';
import type { Role } from '../config/index.ts';
import { SentinelError } from '../domain/errors.ts';

/** Each role includes the ones before it. `system` is for service identities (InfraMind). */
const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, system: 3 };

export interface TokenGrant {
  token: string;
  role: Role;
}

/**
 * Bearer-token authorisation. With no tokens configured the API is open (local `sentinel dev`)
 * and every caller acts as admin; the dev command says so when it starts.
 */
export class Authorizer {
  private readonly byToken: Map<string, Role>;
  constructor(grants: readonly TokenGrant[] | undefined) {
    this.byToken = new Map((grants ?? []).map((g) => [g.token, g.role]));
  }

  get enabled(): boolean {
    return this.byToken.size > 0;
  }

  /** Throws 401/403 problems unless the request carries a token of at least `minimum`. */
  require(request: FastifyRequest, minimum: Role): Role {
    if (!this.enabled) return 'admin';
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const role = match ? this.byToken.get(match[1]!) : undefined;
    if (!role)
      throw new SentinelError(
        'SENTINEL_ERR_UNAUTHENTICATED',
        'send Authorization: Bearer <token> with a known token',
      );
    if (ROLE_RANK[role] < ROLE_RANK[minimum]) {
      throw new SentinelError(
        'SENTINEL_ERR_FORBIDDEN',
        `this action needs role ${minimum}; the token has role ${role}`,
      );
    }
    return role;
  }
}
