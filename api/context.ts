import type { Authorizer } from './auth.ts';
import type { PlanService } from './plan-service.ts';
import type { Database } from '../store/database.ts';

/** What route handlers need; built once by api/server.ts. */
export interface ApiContext {
  auth: Authorizer;
  plans: PlanService;
  db: Database;
}
