/**
 * A workflow that does nothing: `npm run bench:plans` measures its throughput on the same
 * Temporal server as the baseline that plan latency is compared with.
 */
export async function noopWorkflow(): Promise<string> {
  return Promise.resolve('done');
}
