import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeMetadata, describeStates, encodeMetadata, readSnapshot, type SnapshotMetadata } from './snapshot-format';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'weir-snapshot-format-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const meta = (where: string): SnapshotMetadata => ({
  jobId: 'j', id: 4, kind: 'SAVEPOINT', triggeredAt: 1, completedAt: 2, final: false, path: where,
  handles: { v1: [{ operator_uid: '*', path: path.join(where, 'v1-0.state'), size: 3, checksum: 'c', key_group_start: 0, key_group_end: -1 }] },
  vertices: [{ id: 'v1', name: 'Source', parallelism: 1, max_parallelism: 128, operators: [{ uid: 'numbers', name: 'Source', kind: 'source' }] }],
});

describe('snapshot metadata', () => {
  it('names files relative to itself and resolves them against wherever it is read from', () => {
    const text = encodeMetadata(meta('/old/place'));
    const raw = JSON.parse(text);
    expect(raw).toMatchObject({ format: 'weir-snapshot', version: 1, kind: 'SAVEPOINT', id: 4 });
    expect(raw.path).toBeUndefined();
    expect(raw.handles.v1[0].path).toBe('v1-0.state');
    const read = decodeMetadata(text, '/new/place');
    expect(read.path).toBe('/new/place');
    expect(read.handles.v1[0].path).toBe('/new/place/v1-0.state');
    expect(read.vertices?.[0].operators[0].uid).toBe('numbers');
  });

  it('reads metadata from before the format had a version (absolute paths, no kind) as a checkpoint', () => {
    const legacy = JSON.stringify({ jobId: 'j', id: 3, triggeredAt: 0, completedAt: 0, final: false, path: '/x', handles: { v1: [{ path: '/x/v1-0.state' }] } });
    const read = decodeMetadata(legacy, '/y');
    expect(read.kind).toBe('CHECKPOINT');
    expect(read.handles.v1[0].path).toBe('/x/v1-0.state');
    expect(read.vertices).toBeUndefined();
  });

  it('refuses, each in one sentence: a newer format version, another format, broken JSON, missing fields', () => {
    const file = path.join('/sp', '_metadata');
    expect(() => decodeMetadata(JSON.stringify({ format: 'weir-snapshot', version: 9, id: 1, handles: {} }), '/sp')).toThrow(
      `${file} was written in snapshot format version 9; this Weir reads versions up to 1`,
    );
    expect(() => decodeMetadata(JSON.stringify({ format: 'other', id: 1, handles: {} }), '/sp')).toThrow(`${file} is not Weir snapshot metadata (format "other")`);
    expect(() => decodeMetadata('{"id": 1, "hand', '/sp')).toThrow(`checkpoint metadata ${file} is corrupt: it is not valid JSON (15 bytes)`);
    expect(() => decodeMetadata('{"id": 1}', '/sp')).toThrow(`checkpoint metadata ${file} is corrupt: it lacks the checkpoint id or the state handles`);
  });

  it('a user path: the directory or its _metadata; a missing path or a directory without _metadata is named', async () => {
    const sp = path.join(dir, 'savepoint-x');
    mkdirSync(sp);
    await expect(readSnapshot(sp)).rejects.toThrow(`${sp} is not a savepoint or checkpoint: it has no _metadata (an incomplete checkpoint, or the wrong directory)`);
    writeFileSync(path.join(sp, '_metadata'), encodeMetadata(meta('/elsewhere')));
    expect((await readSnapshot(sp)).handles.v1[0].path).toBe(path.join(sp, 'v1-0.state'));
    expect((await readSnapshot(path.join(sp, '_metadata'))).path).toBe(sp);
    await expect(readSnapshot(path.join(dir, 'nothing'))).rejects.toThrow(`no savepoint or checkpoint at ${path.join(dir, 'nothing')}: the path does not exist`);
  });

  it('describes the non-empty states of a task file, keyed ones by their name without the uid', () => {
    const states = describeStates({
      vertexId: 'v2', subtask: 0, keyGroupStart: 0, keyGroupEnd: 63,
      operators: {
        sum: { keyed: { range: { start: 0, end: 63 }, states: { 'sum/reduce': { kind: 'value', groups: [[1, [['k', 1]]]] }, 'sum/empty': { kind: 'map', groups: [] } } } },
        sink: { operator: { 'file-sink-pending': [{ f: 1 }], unused: [] }, split: { offsets: [1, 2] } },
      },
    });
    expect(states).toEqual([
      { operator_uid: 'sum', name: 'reduce', kind: 'value', keyed: true },
      { operator_uid: 'sink', name: 'file-sink-pending', kind: 'union', keyed: false },
      { operator_uid: 'sink', name: 'offsets', kind: 'split', keyed: false },
    ]);
  });
});
