import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { PolicyDocument } from '../policy/index.ts';
import type { Database } from './database.ts';
import { contentDigest } from './digest.ts';
import { policies } from './schema.ts';

export type PolicyRow = typeof policies.$inferSelect;

/** The newest version of every policy that is not deleted, in id order. */
export async function listCurrentPolicies(db: Database): Promise<PolicyDocument[]> {
  const rows = await db
    .selectDistinctOn([policies.id])
    .from(policies)
    .orderBy(policies.id, desc(policies.version));
  return rows.filter((r) => r.deletedAt === null).map((r) => r.document as PolicyDocument);
}

/** One version of one policy, current or not (the audit verifier needs old versions). */
export async function getPolicyVersion(
  db: Database,
  id: string,
  version: number,
): Promise<PolicyDocument | undefined> {
  const rows = await db
    .select()
    .from(policies)
    .where(and(eq(policies.id, id), eq(policies.version, version)))
    .limit(1);
  return rows[0]?.document as PolicyDocument | undefined;
}

export async function listPolicyVersions(db: Database, id: string): Promise<PolicyRow[]> {
  return db.select().from(policies).where(eq(policies.id, id)).orderBy(desc(policies.version));
}

/**
 * Stores `document` as the next version of its id (the version in the document is
 * replaced), unless it equals the current version, in which case nothing changes.
 */
export async function putPolicy(
  db: Database,
  document: PolicyDocument,
  createdBy: string,
): Promise<{ document: PolicyDocument; created: boolean }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(7250002, hashtext(${document.id}))`);
    const latest = (
      await tx
        .select()
        .from(policies)
        .where(eq(policies.id, document.id))
        .orderBy(desc(policies.version))
        .limit(1)
    )[0];
    if (latest && latest.deletedAt === null) {
      const current = latest.document as PolicyDocument;
      if (contentDigest({ ...current, version: 0 }) === contentDigest({ ...document, version: 0 })) {
        return { document: current, created: false };
      }
    }
    const next = { ...document, version: (latest?.version ?? 0) + 1 };
    await tx.insert(policies).values({ id: next.id, version: next.version, document: next, createdBy });
    return { document: next, created: true };
  });
}

/** Marks the newest version deleted; old versions stay readable for the audit. */
export async function deletePolicy(db: Database, id: string): Promise<boolean> {
  const latest = (
    await db.select().from(policies).where(eq(policies.id, id)).orderBy(desc(policies.version)).limit(1)
  )[0];
  if (!latest || latest.deletedAt !== null) return false;
  await db
    .update(policies)
    .set({ deletedAt: sql`now()` })
    .where(and(eq(policies.id, id), eq(policies.version, latest.version), isNull(policies.deletedAt)));
  return true;
}
