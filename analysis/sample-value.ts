import { z } from 'zod';

// Prometheus answers NaN for 0/0 (an error ratio with no traffic) and ±Inf for x/0. JSON has
// no such numbers: JSON.stringify turns them into null, which is how a measurement would lose
// them on its way through Temporal's payload converter into workflow state and the audit.
// Measurements therefore keep them as the strings Prometheus itself uses.

/** A measured value as it is stored: a finite number, or `"NaN"`, `"+Inf"`, `"-Inf"`. */
export const SampleValueSchema = z.union([z.number(), z.enum(['NaN', '+Inf', '-Inf'])]);
export type SampleValue = z.infer<typeof SampleValueSchema>;

/** A number in its JSON-safe stored form. */
export function encodeSampleValue(value: number): SampleValue {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return value;
}

/** The number a stored value stands for. */
export function decodeSampleValue(value: SampleValue): number {
  if (value === 'NaN') return NaN;
  if (value === '+Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return value;
}
