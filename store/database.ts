import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.ts';

const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Drizzle over either driver; repositories only see this. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Where the data lives: a PostgreSQL URL, or a PGlite folder (`memory://` for in-memory). */
export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

/** An open, migrated database. */
export interface DatabaseHandle extends AsyncDisposable {
  db: Database;
  target: DatabaseTarget;
  close(): Promise<void>;
}

/** `DATABASE_URL` when set, else embedded PGlite under `dataDir`. */
export function databaseTargetFromEnv(
  dataDir: string,
  env: { DATABASE_URL?: string | undefined } = process.env,
): DatabaseTarget {
  return env.DATABASE_URL
    ? { kind: 'postgres', url: env.DATABASE_URL }
    : { kind: 'pglite', dataDir: join(dataDir, 'pglite') };
}

/** Opens the database and applies the committed migrations (idempotent). */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    const db = drizzlePg(pool, { schema });
    // Several API and worker processes may start at once on an empty database: a session
    // lock lets one of them migrate while the others wait, then find nothing to do.
    const lockSession = await pool.connect();
    try {
      await lockSession.query('SELECT pg_advisory_lock(7250000)');
      await migratePg(db, { migrationsFolder });
    } finally {
      await lockSession.query('SELECT pg_advisory_unlock(7250000)').catch(() => undefined);
      lockSession.release();
    }
    const close = () => pool.end();
    return { db: db as unknown as Database, target, close, [Symbol.asyncDispose]: close };
  }
  if (!target.dataDir.startsWith('memory://')) mkdirSync(target.dataDir, { recursive: true });
  const client = await PGlite.create(target.dataDir);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  const close = () => client.close();
  return { db: db as unknown as Database, target, close, [Symbol.asyncDispose]: close };
}
