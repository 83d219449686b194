#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, resolved from this package, so `sentinel`
// works from any directory without a separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
