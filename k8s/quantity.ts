import { parseQuantity as parseNonNegativeQuantity } from '../policy/quantity.ts';

/**
 * The value of a resource quantity (`500m`, `64Gi`, `1e3`) in base units (cores, bytes,
 * devices); NaN when it is not one. The parsing is the policy engine's, so a limit in a
 * policy and a request in a Pod are read the same way.
 */
export function parseQuantity(quantity: string | number): number {
  return parseNonNegativeQuantity(quantity) ?? NaN;
}

/** True when two quantities denote the same amount (`1000m` equals `1`). */
export function sameQuantity(
  a: string | number | undefined | null,
  b: string | number | undefined | null,
): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return String(a) === String(b);
  return Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 1e-12;
}
