import type { Command } from 'commander';
import { verifyAuditRecords, type StoredAuditRecord } from '../audit/verify.ts';
import type { PolicyDocument } from '../policy/index.ts';
import type { ApiClient } from './api-client.ts';
import { SentinelError } from '../domain/errors.ts';

const PAGE = 1000;

/** Every audit record from `fromSeq` on, a page at a time, in chain order. */
async function* auditRecords(api: ApiClient, fromSeq: number): AsyncGenerator<StoredAuditRecord> {
  let next = fromSeq;
  for (;;) {
    const { body } = await api.request<{ items: StoredAuditRecord[] }>(
      'GET',
      `/v1/audit?fromSeq=${next}&limit=${PAGE}`,
    );
    yield* body.items;
    if (body.items.length < PAGE) return;
    next = body.items[body.items.length - 1]!.seq + 1;
  }
}

/** `sentinel audit ...` */
export function registerAuditCommands(program: Command, api: () => ApiClient): void {
  const audit = program.command('audit').description('read and verify the hash-chained audit trail');

  audit
    .command('list')
    .description('list audit records in chain order')
    .option('--plan <id>', 'only this plan')
    .option('--workload <key>', 'only this workload (cluster/namespace/kind/name)')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (opts: { plan?: string; workload?: string; limit: string }) => {
      const query = new URLSearchParams({ limit: opts.limit });
      if (opts.plan) query.set('planId', opts.plan);
      if (opts.workload) query.set('workload', opts.workload);
      const { body } = await api().request<{ items: StoredAuditRecord[] }>(
        'GET',
        `/v1/audit?${query.toString()}`,
      );
      for (const r of body.items) {
        console.log(
          `#${String(r.seq).padEnd(6)} ${r.at}  ${r.kind.padEnd(18)} ${r.planId} step ${r.stepIndex}  ${r.workload}  by ${r.actor}  ${r.hash.slice(0, 12)}`,
        );
      }
    });

  audit
    .command('verify')
    .description(
      'recompute the hash chain and re-evaluate every recorded policy decision with the policy versions it used; ' +
        'exits 1 at the first broken, altered or violating record',
    )
    .option('--from-seq <n>', 'start at this record (its predecessor is trusted)', '1')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts: { fromSeq: string; output: string }) => {
      const client = api();
      const fromSeq = Number(opts.fromSeq);
      const cache = new Map<string, Promise<PolicyDocument | undefined>>();
      const lookup = (id: string, version: number) => {
        const key = `${id}@${version}`;
        if (!cache.has(key)) {
          cache.set(
            key,
            client
              .request<{ document?: PolicyDocument } & PolicyDocument>(
                'GET',
                `/v1/policy-history/${encodeURIComponent(id)}/${version}`,
              )
              .then(({ body }) => body.document ?? body)
              .catch((err: unknown) => {
                if (err instanceof SentinelError && err.code === 'SENTINEL_ERR_NOT_FOUND') return undefined;
                throw err;
              }),
          );
        }
        return cache.get(key)!;
      };
      let previousHash: string | undefined;
      if (fromSeq > 1) {
        const { body } = await client.request<{ items: StoredAuditRecord[] }>(
          'GET',
          `/v1/audit?fromSeq=${fromSeq}&limit=1`,
        );
        previousHash = body.items[0]?.prevHash;
      }
      const result = await verifyAuditRecords(auditRecords(client, fromSeq), lookup, {
        ...(previousHash ? { previousHash } : {}),
        onProgress: (n) => {
          if (n % 1000 === 0) process.stderr.write(`  verified ${n} records\n`);
        },
      });
      if (opts.output === 'json') console.log(JSON.stringify(result, null, 2));
      else if (result.problem) {
        console.log(
          `FAILED at record #${result.problem.seq} (${result.problem.recordKey}): ${result.problem.kind}: ${result.problem.message}`,
        );
        console.log(
          `  ${result.records - 1} records before it verified, ${result.decisionsChecked} decisions re-evaluated`,
        );
      } else {
        console.log(
          `OK: ${result.records} records (#${result.firstSeq ?? '-'}..#${result.lastSeq ?? '-'}), hash chain intact, ` +
            `${result.decisionsChecked} policy decisions re-evaluated and unchanged, no denied action executed`,
        );
      }
      if (result.problem) process.exitCode = 1;
    });
}
