// Kubernetes resource quantities ("500m", "64Gi", "1.5", "2e3") turned into plain numbers, so
// policy authors can write limits the way they write Pod requests.

const SUFFIX_FACTOR: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY_PATTERN = /^(\+?\d+(?:\.\d*)?|\+?\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** A quantity as a policy author may write it: a non-negative number or a Kubernetes string. */
export type Quantity = number | string;

/**
 * Value of a Kubernetes quantity: `"500m"` → 0.5, `"16Gi"` → 17179869184, `"2"` → 2,
 * `"1e3"` → 1000; a number is returned as is. Returns `undefined` for text that is not a
 * non-negative quantity, so schemas can report it.
 */
export function parseQuantity(value: Quantity): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = QUANTITY_PATTERN.exec(value.trim());
  if (m === null) return undefined;
  const base = Number(m[1]);
  const exponent = m[2];
  if (exponent !== undefined) {
    const result = Number(`${m[1]}${exponent}`);
    return Number.isFinite(result) ? result : undefined;
  }
  const factor = SUFFIX_FACTOR[m[3] ?? ''];
  return factor === undefined ? undefined : base * factor;
}
