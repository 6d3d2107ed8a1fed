import { writeSync } from 'node:fs';

/**
 * Named fault points: every step of the checkpoint and recovery protocol has a name here,
 * and tests switch one on through WEIR_FAULT_POINTS to kill the process there (as kill -9
 * does) or fail its I/O. Outside tests the table is empty and a hit costs one lookup.
 *
 *   WEIR_FAULT_POINTS="jm.metadata.renamed:crash@2,tm.state.written:fail-io"
 *
 * `crash` sends SIGKILL to the own process, `fail-io` throws an ENOSPC error, `pause-<ms>`
 * holds an asynchronous step for that long; `@n` acts on the n-th hit only, `@n+` on the
 * n-th and every later one (default: every hit).
 */
export const FAULT_POINTS = {
  'jm.checkpoint.trigger-sent': 'the JobManager sent a checkpoint trigger to every source',
  'tm.source.snapshot': 'a source took its snapshot, before its barrier goes out',
  'tm.barrier.forwarded': 'a task with inputs snapshotted and forwarded the barrier',
  'tm.state.written': 'a task wrote its state file, before it acknowledges',
  'tm.ack.sent': 'a task sent its acknowledgement',
  'jm.ack.received': 'the JobManager took an acknowledgement',
  'jm.metadata.written': 'the JobManager wrote and synced _metadata under its temporary name',
  'jm.metadata.renamed': 'the JobManager renamed _metadata into place',
  'jm.store.updated': 'the completed-checkpoint store took the checkpoint and applied retention',
  'jm.completion.notified': 'the JobManager told every task that the checkpoint completed',
  'tm.sink.committed': 'the file sink made the files of a completed checkpoint visible',
  'jm.stats.saved': 'the JobManager appended a checkpoint statistics record',
  'tm.restore.read': 'a task read and verified its state files at restore',
} as const;

export type FaultPoint = keyof typeof FAULT_POINTS;
export type FaultAction = { kind: 'crash' } | { kind: 'fail-io' } | { kind: 'pause'; ms: number };

interface Armed {
  action: FaultAction;
  /** Act on this hit only (or from it on, with `andAfter`); 0 = every hit. */
  onHit: number;
  andAfter: boolean;
  hits: number;
}

export const FAULT_POINTS_ENV = 'WEIR_FAULT_POINTS';

/** Parses a WEIR_FAULT_POINTS value; an unknown point or action is a test bug, so it throws. */
export function parseFaultPoints(spec: string): Map<FaultPoint, Armed> {
  const armed = new Map<FaultPoint, Armed>();
  for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z.-]+):(crash|fail-io|pause-(\d+))(?:@(\d+)(\+)?)?$/.exec(entry);
    if (!m) throw new Error(`${FAULT_POINTS_ENV}: cannot parse "${entry}" (want <point>:crash|fail-io|pause-<ms>[@<hit>[+]])`);
    const point = m[1] as FaultPoint;
    if (!(point in FAULT_POINTS)) throw new Error(`${FAULT_POINTS_ENV}: unknown fault point "${point}" (known: ${Object.keys(FAULT_POINTS).join(', ')})`);
    const action: FaultAction = m[2] === 'crash' ? { kind: 'crash' } : m[2] === 'fail-io' ? { kind: 'fail-io' } : { kind: 'pause', ms: Number(m[3]) };
    armed.set(point, { action, onHit: m[4] ? Number(m[4]) : 0, andAfter: m[5] === '+', hits: 0 });
  }
  return armed;
}

let armed: Map<FaultPoint, Armed> = parseFaultPoints(process.env[FAULT_POINTS_ENV] ?? '');
let onHitListener: ((point: FaultPoint, action: FaultAction) => void) | undefined;

/** For unit tests: arm points in this process (replaces what the environment armed). */
export function armFaultPoints(spec: string): void {
  armed = parseFaultPoints(spec);
}

/** Lets a process log a hit before it acts (the crash leaves no other trace). */
export function onFaultPointHit(listener: (point: FaultPoint, action: FaultAction) => void): void {
  onHitListener = listener;
}

/**
 * Passes a fault point. Returns undefined when nothing is armed there (the normal case);
 * a pause returns a promise that asynchronous steps await.
 */
export function faultPoint(point: FaultPoint): Promise<void> | undefined {
  if (armed.size === 0) return undefined;
  const a = armed.get(point);
  if (!a) return undefined;
  a.hits++;
  if (a.onHit !== 0 && (a.andAfter ? a.hits < a.onHit : a.hits !== a.onHit)) return undefined;
  onHitListener?.(point, a.action);
  switch (a.action.kind) {
    case 'crash':
      // As kill -9: no exit handlers, no flushing, no goodbye on any socket. One line on
      // stderr first, written synchronously, says where the process died.
      writeSync(2, `${JSON.stringify({ level: 50, time: Date.now(), pid: process.pid, point, msg: 'fault point hit: crashing' })}\n`);
      process.kill(process.pid, 'SIGKILL');
      return undefined;
    case 'fail-io': {
      const err = new Error(`ENOSPC: no space left on device (fault point ${point})`) as NodeJS.ErrnoException;
      err.code = 'ENOSPC';
      throw err;
    }
    case 'pause':
      return new Promise((resolve) => setTimeout(resolve, (a.action as { ms: number }).ms));
  }
}
