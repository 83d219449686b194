import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { toolBinary } from '../testbed/tools.ts';

/**
 * Locates the Temporal CLI: `SENTINEL_TEMPORAL_CLI`, then `temporal` on PATH, then the
 * machine-wide cache (building it there on first use).
 */
export function temporalCliPath(): string {
  const explicit = process.env.SENTINEL_TEMPORAL_CLI;
  if (explicit) {
    if (!existsSync(explicit))
      throw new Error(`SENTINEL_TEMPORAL_CLI points to ${explicit}, which does not exist`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'temporal');
    if (dir && existsSync(candidate)) return candidate;
  }
  return toolBinary('temporal', 'temporal');
}
