import { describe, expect, it } from 'vitest';
import { createLogger } from '@weir/core';
import type { Dispatcher } from './dispatcher';
import { JobPruner } from './job-pruner';

function dispatcherWith(jobs: { id: string; state: string; endTime: number }[]): Dispatcher {
  return { jobs: new Map(jobs.map((j) => [j.id, { jobId: j.id, state: j.state, endTime: j.endTime }])) } as unknown as Dispatcher;
}

describe('JobPruner', () => {
  const log = createLogger('test', 'silent');

  it('keeps the newest max-capacity finished jobs and every running one', () => {
    let now = 10_000;
    const d = dispatcherWith([
      { id: 'a', state: 'FINISHED', endTime: 1000 }, { id: 'b', state: 'FAILED', endTime: 3000 }, { id: 'c', state: 'CANCELED', endTime: 2000 },
      { id: 'r', state: 'RUNNING', endTime: 0 }, { id: 's', state: 'RESTARTING', endTime: 0 },
    ]);
    const pruner = new JobPruner(d, 2, 1_000_000, log, () => now);
    expect([...d.jobs.keys()].sort()).toEqual(['b', 'c', 'r', 's']);
    now = 1_002_500; // c (ended at 2000) is past the expiration time, b (3000) not yet
    expect(pruner.prune()).toEqual(['c']);
    expect([...d.jobs.keys()].sort()).toEqual(['b', 'r', 's']);
    pruner.close();
  });

  it('drops finished jobs older than the expiration time', () => {
    const d = dispatcherWith([{ id: 'old', state: 'FINISHED', endTime: 0 }, { id: 'new', state: 'FINISHED', endTime: 9_500 }]);
    const pruner = new JobPruner(d, 100, 1000, log, () => 10_000);
    expect([...d.jobs.keys()]).toEqual(['new']);
    pruner.close();
  });
});
