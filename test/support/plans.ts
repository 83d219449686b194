import type { PlanView } from '../../api/plan-service.ts';
import { TERMINAL_PLAN_PHASES, type PlanPhase } from '../../domain/plan.ts';
import { eventually } from './stack.ts';

/** A tiny HTTP client for tests: JSON in, status + content type + JSON out. */
export function apiClient(apiUrl: string) {
  const request = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(new URL(path, apiUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: (await response.json()) as T,
    };
  };
  const getPlan = async (id: string) => (await request<PlanView>('GET', `/v1/plans/${id}`)).body;
  return {
    request,
    getPlan,
    /** Polls the plan until it reaches a terminal phase. */
    finished: (id: string, timeoutMs = 90_000) =>
      eventually(
        () => getPlan(id),
        (view) => TERMINAL_PLAN_PHASES.has(view.phase as PlanPhase),
        timeoutMs,
      ),
    /** Polls the plan until `done` holds. */
    until: (id: string, done: (view: PlanView) => boolean, timeoutMs = 60_000) =>
      eventually(() => getPlan(id), done, timeoutMs),
  };
}
