/**
 * The REST API's mutating endpoints, on Flink's paths and with Flink's field names:
 * savepoints, stop-with-savepoint and checkpoints run asynchronously, answer a
 * `request-id` at once, and are polled at `/jobs/:id/{savepoints,checkpoints}/:triggerid`.
 */
import { JobError } from '@weir/core';
import type { Dispatcher } from '../dispatcher';
import type { TriggerStatus } from '../checkpoint/snapshot-triggers';

type Body = Record<string, unknown>;
export interface OperationRoute {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handle: (dispatcher: Dispatcher, params: string[], body: Body) => { status?: number; json: unknown };
}

function job(dispatcher: Dispatcher, id: string) {
  const master = dispatcher.jobs.get(id) ?? dispatcher.archived.get(id);
  if (!master) throw Object.assign(new JobError(`no job with id ${id}`), { notFound: true });
  return master;
}

function optionalString(body: Body, ...names: string[]): string {
  for (const n of names) {
    const v = body[n];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new JobError(`"${n}" must be a string`);
    return v;
  }
  return '';
}

/** Flink's async operation result: a status, then the location or the failure. */
function operationView(status: TriggerStatus | undefined, triggerId: string) {
  if (!status) throw Object.assign(new JobError(`no trigger ${triggerId}`), { notFound: true });
  if (status.status === 'IN_PROGRESS') return { status: { id: 'IN_PROGRESS' } };
  return {
    status: { id: 'COMPLETED' },
    operation: status.status === 'COMPLETED'
      ? { location: status.path, checkpoint_id: status.checkpoint_id }
      : { 'failure-cause': { class: 'SnapshotFailure', 'stack-trace': status.failure_reason } },
  };
}

export const OPERATION_ROUTES: OperationRoute[] = [
  {
    method: 'POST',
    pattern: /^\/jobs\/([^/]+)\/savepoints$/,
    handle: (d, [id], body) => ({ status: 202, json: { 'request-id': job(d, id).requestSnapshot('SAVEPOINT', optionalString(body, 'target-directory', 'targetDirectory')) } }),
  },
  {
    method: 'POST',
    pattern: /^\/jobs\/([^/]+)\/stop$/,
    handle: (d, [id], body) => {
      if (body.drain !== undefined && typeof body.drain !== 'boolean') throw new JobError('"drain" must be true or false');
      return { status: 202, json: { 'request-id': job(d, id).requestSnapshot('STOP', optionalString(body, 'targetDirectory', 'target-directory'), body.drain === true) } };
    },
  },
  { method: 'POST', pattern: /^\/jobs\/([^/]+)\/checkpoints$/, handle: (d, [id]) => ({ status: 202, json: { 'request-id': job(d, id).requestSnapshot('CHECKPOINT') } }) },
  { method: 'GET', pattern: /^\/jobs\/([^/]+)\/savepoints\/([0-9a-f]{32})$/, handle: (d, [id, t]) => ({ json: operationView(job(d, id).triggers.get(t), t) }) },
  { method: 'GET', pattern: /^\/jobs\/([^/]+)\/checkpoints\/([0-9a-f]{32})$/, handle: (d, [id, t]) => ({ json: operationView(job(d, id).triggers.get(t), t) }) },
];
