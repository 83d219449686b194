// Number formatting for violation messages. Locale-aware formatting (toLocaleString, Intl
// NumberFormat) is avoided on purpose: its output depends on the host's locale data, and a
// message must read the same when the audit verifier re-evaluates a decision elsewhere.

/** A number with at most `decimals` decimals and no trailing zeros: 12.5, 3, 0.125. */
export function formatNumber(value: number, decimals = 4): string {
  if (Number.isInteger(value)) return String(value);
  const fixed = value.toFixed(decimals);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Money per hour or per month: 2 decimals unless more are needed to tell values apart. */
export function formatMoney(value: number, currency: string): string {
  const rounded2 = Math.round(value * 100) / 100;
  const text = Math.abs(rounded2 - value) < 1e-9 ? value.toFixed(2) : formatNumber(value, 6);
  return `${text} ${currency}`;
}

/** Bytes shown in GiB, the unit GPU-node memory is usually discussed in. */
export function formatBytes(bytes: number): string {
  return `${formatNumber(bytes / 2 ** 30, 3)} GiB`;
}

/** CPU cores, shown in millicores below one core as `kubectl` does. */
export function formatCpu(cores: number): string {
  return cores < 1 && cores > 0 ? `${formatNumber(cores * 1000, 1)}m CPU` : `${formatNumber(cores, 3)} CPU`;
}

/** `1 replica`, `3 replicas`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatNumber(count)} ${count === 1 ? singular : pluralForm}`;
}
