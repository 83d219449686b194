// Loaded once per worker by the bundler's `preloadModules` (workers/plan-worker.ts) and shared
// by every workflow in the reusable V8 context. The SDK otherwise evaluates each module again
// per workflow to isolate module state; zod keeps none that workflows touch and is most of
// the memory a cached workflow would hold (about 3 MiB each, against 0.3 MiB shared).
// An export keeps the bundler from dropping the import (zod declares itself free of side
// effects).
import { z } from 'zod';

// The SDK freezes shared modules once they are loaded. zod sets its default locale and
// memoizer in its global config on the first object and array schema it builds: build one
// now, so that no workflow's schemas write to the frozen config later.
z.object({ warm: z.array(z.string()) });

/** zod, evaluated once per worker. */
export const sharedZod = z;
