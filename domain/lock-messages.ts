import { defineQuery, defineSignal } from '@temporalio/workflow';

/**
 * The per-workload lock: one long-lived workflow per workload that grants access to plans in
 * priority order, so that two plans never interleave their changes to one workload.
 */

/** `lock/<cluster>/<namespace>/<kind>/<name>` */
export function workloadLockWorkflowId(workloadKey: string): string {
  return `lock/${workloadKey}`;
}

/** A plan asking for (or giving back) a workload. */
export interface LockRequest {
  /** Workflow id of the requesting plan; grants are signalled to it. */
  requesterId: string;
  planId: string;
  /** Higher goes first; ties go to the earlier request. */
  priority: number;
}

export interface LockGrant {
  lockId: string;
  workload: string;
}

export interface LockState {
  workload: string;
  holder: LockRequest | null;
  queue: LockRequest[];
}

export const acquireLockSignal = defineSignal<[LockRequest]>('acquire');
export const releaseLockSignal = defineSignal<[{ requesterId: string }]>('release');
export const lockStateQuery = defineQuery<LockState>('state');
/** Sent by the lock to the plan whose turn it is. */
export const lockGrantedSignal = defineSignal<[LockGrant]>('lockGranted');
