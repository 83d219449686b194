import { and, desc, eq, notInArray, sql } from 'drizzle-orm';
import { TERMINAL_PLAN_PHASES, type ActionPlan, type PlanStatus } from '../domain/plan.ts';
import type { Database } from './database.ts';
import { plans } from './schema.ts';

export type PlanRow = typeof plans.$inferSelect;

/** Inserts the plan once; a second call with the same id leaves the first row alone. */
export async function insertPlan(
  db: Database,
  plan: ActionPlan,
  meta: { workflowId: string; digest: string; phase: string },
): Promise<void> {
  await db
    .insert(plans)
    .values({
      id: plan.id,
      workflowId: meta.workflowId,
      digest: meta.digest,
      plan,
      phase: meta.phase,
      mode: plan.mode,
      priority: plan.priority,
      requestedBy: plan.requestedBy,
    })
    .onConflictDoNothing({ target: plans.id });
}

/** Stores the workflow's latest status snapshot. */
export async function updatePlanStatus(db: Database, status: PlanStatus): Promise<void> {
  await db
    .update(plans)
    .set({ phase: status.phase, status, updatedAt: sql`now()` })
    .where(and(eq(plans.id, status.planId), notInArray(plans.phase, [...TERMINAL_PLAN_PHASES])));
}

/**
 * Moves the plan into its terminal phase once. Returns the plan's creation time and verbs
 * when this call made the transition, `undefined` when it had already happened.
 */
export async function markPlanFinished(
  db: Database,
  status: PlanStatus,
): Promise<{ createdAt: string; verbs: string } | undefined> {
  const rows = await db
    .update(plans)
    .set({ phase: status.phase, status, updatedAt: sql`now()` })
    .where(and(eq(plans.id, status.planId), notInArray(plans.phase, [...TERMINAL_PLAN_PHASES])))
    .returning({ createdAt: plans.createdAt, plan: plans.plan });
  const row = rows[0];
  if (!row) return undefined;
  const verbs = [...new Set((row.plan as ActionPlan).steps.map((s) => s.verb))].sort().join('+');
  return { createdAt: row.createdAt, verbs };
}

export async function getPlan(db: Database, id: string): Promise<PlanRow | undefined> {
  const rows = await db.select().from(plans).where(eq(plans.id, id)).limit(1);
  return rows[0];
}

export async function listPlans(
  db: Database,
  options: { phase?: string; limit?: number } = {},
): Promise<PlanRow[]> {
  const query = db.select().from(plans);
  const filtered = options.phase ? query.where(eq(plans.phase, options.phase)) : query;
  return filtered.orderBy(desc(plans.createdAt)).limit(options.limit ?? 50);
}
