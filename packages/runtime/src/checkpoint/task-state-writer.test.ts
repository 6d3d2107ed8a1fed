import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValueStateDescriptor, type ValueState } from '@weir/api';
import { RecordSerializer, TypeRegistry } from '@weir/core';
import { stateCodec } from '../state/backend-factory';
import { HeapKeyedStateBackend } from '../state/heap-backend';
import type { KeyedStateBackend } from '../state/keyed-backend';
import { LmdbKeyedStateBackend } from '../state/lmdb-backend';
import { yieldToEventLoop } from '../signal';
import { decodeTaskState, sha256 } from './storage';
import { writeTaskSnapshot } from './task-state-writer';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'weir-writer-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const KEYS = 20_000;

describe.each(['hashmap', 'lmdb'] as const)('writing a %s capture while the task goes on', (type) => {
  it('the file holds the state at capture, each key once, in fragments that read back whole; the job ran meanwhile', async () => {
    const dir = mkdtempSync(path.join(scratch, `${type}-`));
    // Two key groups of 10 000 keys each: large groups, read across turns of the event loop.
    const range = { start: 0, end: 1 };
    const types = new TypeRegistry();
    const b: KeyedStateBackend = type === 'lmdb' ? new LmdbKeyedStateBackend(range, 2, path.join(dir, 'db'), stateCodec(types), types) : new HeapKeyedStateBackend(range, 2);
    const v = b.getState(new ValueStateDescriptor<number>('count'), 'op') as ValueState<number>;
    for (let k = 0; k < KEYS; k++) {
      b.setCurrentKey(k);
      v.update(k);
    }
    const capture = b.capture('full');
    // The job removes keys, adds them back (they move to the end of a group) and changes others.
    let stop = false;
    let turns = 0;
    const job = (async () => {
      for (let i = 0; !stop; turns++) {
        for (let j = 0; j < 300; j++, i++) {
          b.setCurrentKey((i * 7919) % KEYS);
          if (i % 3 === 0) v.clear();
          else v.update(-i);
        }
        await yieldToEventLoop();
      }
    })();
    const { task, keyed } = await writeTaskSnapshot({ vertexId: 'v2', subtask: 0, keyGroupStart: 0, keyGroupEnd: 1, operators: {} }, 'op', capture, {
      taskFile: path.join(dir, 'v2-0.state'), keyedFile: (p) => path.join(dir, `v2-0-keyed-${p}.state`), keyedApart: false, written: () => {},
    }, new RecordSerializer());
    stop = true;
    await job;
    expect(turns).toBeGreaterThan(0);
    expect(keyed).toEqual([]);
    const bytes = readFileSync(task.path);
    expect([bytes.length, sha256(bytes)]).toEqual([task.size, task.checksum]);
    expect(new RecordSerializer().decodeStateMessages(bytes).length).toBeGreaterThan(3);
    const state = decodeTaskState(bytes).operators.op?.keyed?.states['op/count'];
    expect(state?.groups.map(([kg]) => kg).sort()).toEqual([0, 1]);
    const entries = state?.groups.flatMap(([, e]) => e) ?? [];
    expect(entries.length).toBe(KEYS);
    expect(entries.every(([k, value]) => k === value)).toBe(true);
    expect(task.states).toEqual([{ operator_uid: 'op', name: 'count', kind: 'value', keyed: true }]);
    await b.dispose();
  });
});
