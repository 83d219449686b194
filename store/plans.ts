import { and, desc, eq, notInArray, sql } from 'drizzle-orm';
import { TERMINAL_PLAN_PHASES, type ActionPlan, type PlanPhase, type PlanStatus } from '../domain/plan.ts';
import { planPhaseEvent, planSubmittedEvent } from '../events/plan-events.ts';
import type { Database } from './database.ts';
import { enqueueEvent } from './outbox.ts';
import { plans } from './schema.ts';

export type PlanRow = typeof plans.$inferSelect;

/**
 * Inserts the plan once; a second call with the same id leaves the first row alone. The row
 * and its `dev.sentinel.plan.submitted` event commit together.
 */
export async function insertPlan(
  db: Database,
  plan: ActionPlan,
  meta: { workflowId: string; digest: string; phase: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    const inserted = await tx
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
      .onConflictDoNothing({ target: plans.id })
      .returning({ createdAt: plans.createdAt });
    const row = inserted[0];
    if (row) await enqueueEvent(tx, planSubmittedEvent(plan, meta, new Date(row.createdAt).toISOString()));
  });
}

/** The plan row locked for a phase change, or `undefined` when missing or already terminal. */
async function lockOpenPlan(
  tx: Database,
  planId: string,
): Promise<{ phase: string; plan: ActionPlan; createdAt: string } | undefined> {
  const rows = await tx
    .select({ phase: plans.phase, plan: plans.plan, createdAt: plans.createdAt })
    .from(plans)
    .where(eq(plans.id, planId))
    .for('update')
    .limit(1);
  const row = rows[0];
  if (!row || TERMINAL_PLAN_PHASES.has(row.phase as PlanPhase)) return undefined;
  return { phase: row.phase, plan: row.plan as ActionPlan, createdAt: row.createdAt };
}

/**
 * Stores the workflow's latest status snapshot; when the phase changes, a
 * `dev.sentinel.plan.phase.changed` event commits with it.
 */
export async function updatePlanStatus(db: Database, status: PlanStatus): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await lockOpenPlan(tx, status.planId);
    if (!current) return;
    await tx
      .update(plans)
      .set({ phase: status.phase, status, updatedAt: sql`now()` })
      .where(and(eq(plans.id, status.planId), notInArray(plans.phase, [...TERMINAL_PLAN_PHASES])));
    if (current.phase !== status.phase) {
      const terminal = TERMINAL_PLAN_PHASES.has(status.phase);
      await enqueueEvent(tx, planPhaseEvent(current.plan, current.phase, status, terminal));
    }
  });
}

/**
 * Moves the plan into its terminal phase once, with its `dev.sentinel.plan.finished` event.
 * Returns the plan's creation time and verbs when this call made the transition,
 * `undefined` when it had already happened.
 */
export async function markPlanFinished(
  db: Database,
  status: PlanStatus,
): Promise<{ createdAt: string; verbs: string } | undefined> {
  return db.transaction(async (tx) => {
    const current = await lockOpenPlan(tx, status.planId);
    if (!current) return undefined;
    await tx
      .update(plans)
      .set({ phase: status.phase, status, updatedAt: sql`now()` })
      .where(eq(plans.id, status.planId));
    await enqueueEvent(tx, planPhaseEvent(current.plan, current.phase, status, true));
    const verbs = [...new Set(current.plan.steps.map((s) => s.verb))].sort().join('+');
    return { createdAt: current.createdAt, verbs };
  });
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

/** Number of plans in each phase. */
export async function countPlansByPhase(db: Database): Promise<Record<string, number>> {
  const rows = await db
    .select({ phase: plans.phase, count: sql<number>`count(*)::int` })
    .from(plans)
    .groupBy(plans.phase);
  return Object.fromEntries(rows.map((r) => [r.phase, Number(r.count)]));
}
