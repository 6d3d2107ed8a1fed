// The record path of bench-throughput.ts in one process, without the network: the
// source's records go through a hash RecordWriter into batches, each batch is decoded,
// keyed, summed in a ValueState by the keyed operator and passed to a chained sink, as
// Task.runInputs does. Prints CPU ns per record (process.cpuUsage: time spent waiting
// for a core on a busy machine is not counted), best of --rounds (default 7).
// Run it bundled, as a TaskManager runs its code (vite-node adds a cost to every call
// between modules that the bundle does not have):
//   npx esbuild scripts/bench/hot-path.ts --bundle --platform=node --outfile=/tmp/hot-path.cjs && node /tmp/hot-path.cjs [--rounds N] [--object-reuse]
import { ValueStateDescriptor, type ValueState } from '@weir/api';
import * as core from '@weir/core';
import { HeapKeyedStateBackend, RecordWriter, ResultSubpartition } from '@weir/runtime';
import { OperatorChain } from '@weir/runtime/src/task/operator-chain';
import type { VertexPlan } from '@weir/api/src/internal';

const objectReuse = process.argv.includes('--object-reuse');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7;
const KEYS = 10_000;
const RECORDS = 500_000;
const MAX_PARALLELISM = 128;

// Works against builds with and without the serializer contract (to compare two trees).
const coreAny = core as unknown as Record<string, unknown>;
const Serializer = coreAny.RecordSerializer as (new () => { decodeBatch(d: Uint8Array): unknown[] }) | undefined;
const serializer = Serializer ? new Serializer() : undefined;
const decodeBatch = serializer ? (d: Uint8Array) => serializer.decodeBatch(d) : (coreAny.decodeBatch as (d: Uint8Array) => unknown[]);
// Key groups sent with the batch (hash edges), where the build has them, as Task.runInputs uses them.
type WithGroups = { decodeBatchWithKeyGroups?(d: Uint8Array): { records: unknown[]; keyGroups?: { maxParallelism: number; groups: ArrayLike<number> } } };
const decodeWithGroups = (serializer as WithGroups | undefined)?.decodeBatchWithKeyGroups?.bind(serializer);

type Record_ = { key: number; value: number };

/**
 * The job's own functions, compiled afresh for each simulated job (as a TaskManager
 * evaluates each job's bundle): the runtime's call sites into job code then see other
 * functions for every job, as on a cluster that ran several jobs.
 */
function jobFunctions() {
  return new Function(`return {
    keySelector: (r) => r.key,
    record: (i, keys) => ({ key: i % keys, value: 1 }),
    sum: (state, r, out) => { const sum = (state.value() ?? 0) + r.value; state.update(sum); out.collect({ key: r.key, sum }); },
  };`)() as { keySelector(r: unknown): unknown; record(i: number, keys: number): Record_; sum(state: ValueState<number>, r: Record_, out: { collect(v: unknown): void }): void };
}

function run(job = jobFunctions()): number {
  const batches: Uint8Array[] = [];
  const subpartitions = [0, 1].map(() => {
    const s = new ResultSubpartition(() => {});
    s.add = ((item: { kind: string; data?: Uint8Array }) => void (item.kind === 'batch' && batches.push(item.data as Uint8Array))) as never;
    return s;
  });
  const keySelector = job.keySelector;
  const writer = new RecordWriter(subpartitions, 'HASH', keySelector, MAX_PARALLELISM, 0, ...((serializer ? [serializer] : []) as []));

  const backend = new HeapKeyedStateBackend({ start: 0, end: MAX_PARALLELISM - 1 }, MAX_PARALLELISM);
  let state = backend.getState(new ValueStateDescriptor<number>('sum'), 'sum') as ValueState<number>;
  let sunk = 0;
  const plan = {
    vertex: { id: 'v2', name: 'sum -> sink', parallelism: 1, max_parallelism: MAX_PARALLELISM, operators: [{ name: 'sum', uid: 'sum', kind: 'process' }, { name: 'sink', uid: 'sink', kind: 'sink' }], is_source: false },
    createOperators: [
      () => ({
        processElement: (r: Record_, out: { collect(v: unknown): void }) => job.sum(state, r, out),
      }),
      () => ({ processElement: () => void sunk++ }),
    ],
    operatorUids: ['sum', 'sink'],
    outputKeySelectors: new Map(),
    types: coreAny.NO_TYPES,
  } as unknown as VertexPlan;
  const chain = new OperatorChain(plan, () => {}, ...((serializer && !objectReuse ? [serializer] : []) as []));

  const start = process.cpuUsage();
  for (let i = 0; i < RECORDS; i++) {
    const record = job.record(i, KEYS);
    // The TaskOutput of the source task: the writer checks records against the contract as it encodes them.
    writer.emit(record);
  }
  writer.flush();
  for (const data of batches) {
    if (decodeWithGroups) {
      const { records, keyGroups } = decodeWithGroups(data);
      for (let i = 0; i < records.length; i++) {
        const record = records[i];
        const group = keyGroups?.maxParallelism === MAX_PARALLELISM ? keyGroups.groups[i] : undefined;
        (backend.setCurrentKey as (key: unknown, group?: number) => void)(keySelector(record), group);
        chain.head.collect(record);
      }
      continue;
    }
    for (const record of decodeBatch(data)) {
      backend.setCurrentKey(keySelector(record));
      chain.head.collect(record);
    }
  }
  const used = process.cpuUsage(start);
  if (sunk !== RECORDS) throw new Error(`sink saw ${sunk} of ${RECORDS} records`);
  return ((used.user + used.system) * 1000) / RECORDS;
}

// --jobs N: N earlier jobs ran on this thread first, and every round is a job of its own.
const jobs = Number(process.argv[process.argv.indexOf('--jobs') + 1]) || 0;
for (let j = 0; j < jobs; j++) run(jobFunctions());
const oneJob = jobFunctions();
const figures: number[] = [];
for (let r = 0; r < rounds; r++) figures.push(run(jobs > 0 ? jobFunctions() : oneJob));
figures.sort((a, b) => a - b);
console.log(`record path of bench-throughput.ts in one process (${serializer ? 'with' : 'without'} the serializer contract${objectReuse ? ', pipeline.object-reuse' : ''}${jobs > 0 ? `, after ${jobs} other jobs, each round a new job` : ''}): best ${figures[0].toFixed(0)} ns, median ${figures[Math.floor(figures.length / 2)].toFixed(0)} ns CPU per record over ${rounds} rounds of ${RECORDS}`);
