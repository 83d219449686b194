import type { Authorizer } from './auth.ts';
import type { PlanService } from './plan-service.ts';
import type { PolicyService } from './policy-service.ts';
import type { ClusterRegistry } from '../k8s/index.ts';
import type { Database } from '../store/database.ts';

/** What route handlers need; built once by api/server.ts. */
export interface ApiContext {
  auth: Authorizer;
  plans: PlanService;
  db: Database;
  policies: PolicyService;
  /** The clusters the API reads live state from (dry-run evaluation); absent when not configured. */
  clusters?: ClusterRegistry;
}
