// The phases of one keyed task's checkpoint, in one process, on the real backends and the
// real state writer (packages/runtime/src/checkpoint/task-state-writer.ts): a task loop
// updates random keys of a ValueState at --rate records/s in time slices (as
// Task.runInputs does) while
// checkpoints are taken: capture (the synchronous phase), then the write (the
// asynchronous phase) to a temporary directory. Prints per configuration: synchronous
// phase p50/p99/max, asynchronous phase p50, the records the task processed while the
// asynchronous phase ran (as a share of its input rate: 1 = it kept up), the longest the
// task waited for its thread meanwhile, CPU time, and the load average.
// Run it bundled, as a TaskManager runs its code:
//   npx esbuild scripts/bench/snapshot-phases.ts --bundle --platform=node --external:lmdb --outfile=/tmp/snapshot-phases.cjs
//   node /tmp/snapshot-phases.cjs [--keys 1000000] [--rate 200000] [--backends hashmap,lmdb] [--modes full,incremental] [--checkpoints 8]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ValueStateDescriptor, type ValueState } from '@weir/api';
import { RecordSerializer, type StateHandle } from '@weir/core';
import { createKeyedBackend, stateBackendSettings } from '@weir/runtime';
import { ChangelogChain } from '@weir/runtime/src/checkpoint/changelog-chain';
import { writeTaskSnapshot } from '@weir/runtime/src/checkpoint/task-state-writer';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : d;
};
const KEYS = Number(arg('keys', '1000000'));
const BACKENDS = arg('backends', 'hashmap,lmdb').split(',');
const MODES = arg('modes', 'full,incremental').split(',');
const CHECKPOINTS = Number(arg('checkpoints', '8'));
/** The task's input rate, records/s (the task can go faster: it catches up after a pause). */
const RATE = Number(arg('rate', '200000'));
/** Keys changed between checkpoints: 1 % of the state. */
const CHANGED = Math.max(1, Math.round(KEYS / 100));
/** A task's time slice (record-feeder.ts) and the records it takes per slice check. */
const SLICE_MS = 5;
const BATCH = 64;

const tick = () => new Promise<void>((r) => setImmediate(r));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number) : NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * The task: updates pseudo-random keys at RATE records/s, in slices of at most SLICE_MS,
 * giving the loop a turn after each; `longestWaitMs` is the longest it found its thread busy.
 */
class TaskLoop {
  records = 0;
  longestWaitMs = 0;
  private running = true;
  private key = 12345;
  constructor(private readonly backend: ReturnType<typeof createKeyedBackend>, private readonly state: ValueState<number>, private readonly rate: number) {}
  async run(): Promise<void> {
    const t0 = performance.now();
    let last = t0;
    while (this.running) {
      const start = performance.now();
      this.longestWaitMs = Math.max(this.longestWaitMs, start - last);
      const owed = Math.floor(((start - t0) / 1000) * this.rate) - this.records;
      let done = 0;
      while (done < owed && performance.now() - start < SLICE_MS) {
        for (let i = 0; i < BATCH; i++) {
          this.key = (Math.imul(this.key, 1103515245) + 12345) >>> 0;
          this.backend.setCurrentKey(this.key % KEYS);
          this.state.update((this.state.value() ?? 0) + 1);
        }
        done += BATCH;
      }
      this.records += done;
      last = performance.now();
      // Caught up: wait for the next millisecond's records (a turn of the loop, as a task waiting on input).
      if (done < owed) await tick();
      else await new Promise((r) => setTimeout(r, 1));
    }
  }
  stop(): void {
    this.running = false;
  }
}

async function measure(backendType: string, mode: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-snapshot-phases-'));
  const settings = stateBackendSettings({ 'state.backend.type': backendType, 'execution.checkpointing.incremental': String(mode === 'incremental'), 'state.backend.lmdb.localdir': path.join(dir, 'lmdb') });
  const backend = createKeyedBackend(settings, { start: 0, end: 127 }, 128, { jobId: 'bench', task: 'v2#0@0' });
  const state = backend.getState(new ValueStateDescriptor<number>('sum'), 'sum');
  const chain = mode === 'incremental' ? new ChangelogChain(20) : undefined;
  const serializer = new RecordSerializer();
  for (let k = 0; k < KEYS; k++) {
    backend.setCurrentKey(k);
    state.update(1);
    if (k % 100_000 === 0) await tick();
  }
  const task = new TaskLoop(backend, state, RATE);
  const running = task.run();
  // The task's rate without a checkpoint.
  await new Promise((r) => setTimeout(r, 1000));
  const r0 = task.records;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 1000));
  const baseRate = (task.records - r0) / ((performance.now() - t0) / 1000);
  const sync: number[] = [];
  const asyncMs: number[] = [];
  const duringShare: number[] = [];
  const waits: number[] = [];
  const bytes: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let id = 1; id <= CHECKPOINTS + 1; id++) {
    // 1 % of the keys change between checkpoints (the task's rate decides how long that takes).
    const before = task.records;
    while (task.records - before < CHANGED) await tick();
    const s0 = performance.now();
    const m = chain ? chain.nextMode(backend.needsFullCapture()) : 'full';
    const capture = backend.capture(m);
    chain?.captured(id, m, capture.changes);
    const s1 = performance.now();
    task.longestWaitMs = 0;
    const recordsAtStart = task.records;
    const files: StateHandle[] = [];
    const chk = path.join(dir, `chk-${id}`);
    const { keyed } = await writeTaskSnapshot({ vertexId: 'v2', subtask: 0, keyGroupStart: 0, keyGroupEnd: 127, operators: {} }, 'sum', capture, {
      taskFile: path.join(chk, 'v2-0.state'),
      keyedFile: (part) => path.join(dir, 'shared', `chk${id}-v2-0-0-${m}-${part}.state`),
      keyedApart: !!chain,
      written: (h) => files.push(h),
    }, serializer);
    const s2 = performance.now();
    if (chain) {
      chain.written(id, keyed);
      chain.onCompleted(id);
    }
    if (id === 1) continue; // the first (full) materialisation of an incremental chain is not steady
    sync.push(s1 - s0);
    asyncMs.push(s2 - s1);
    duringShare.push((task.records - recordsAtStart) / (((s2 - s1) / 1000) * baseRate));
    waits.push(task.longestWaitMs);
    bytes.push(files.reduce((n, h) => n + h.size, 0));
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  task.stop();
  await running;
  await backend.dispose();
  rmSync(dir, { recursive: true, force: true });
  return {
    backend: backendType, mode, keys: KEYS, base_rps: Math.round(baseRate),
    sync_p50_ms: r1(pct(sync, 50)), sync_p99_ms: r1(pct(sync, 99)), sync_max_ms: r1(Math.max(...sync)),
    async_p50_ms: Math.round(pct(asyncMs, 50)), during_async_rate_share_p50: Math.round(pct(duringShare, 50) * 100) / 100,
    longest_wait_p50_ms: r1(pct(waits, 50)), longest_wait_max_ms: r1(Math.max(...waits)),
    written_mb_p50: r1(pct(bytes, 50) / 2 ** 20), cpu_s: r1((cpu.user + cpu.system) / 1e6), wall_s: r1(wallS),
  };
}

async function main(): Promise<void> {
  const load0 = os.loadavg()[0];
  const rows: Record<string, unknown>[] = [];
  for (const b of BACKENDS) for (const m of MODES) {
    const row = await measure(b, m);
    process.stderr.write(`${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  const head = ['backend', 'mode', 'keys', 'rec/s', 'sync p50', 'sync p99', 'sync max', 'async p50', 'rate during async', 'longest wait p50/max', 'written', 'cpu/wall'];
  const table = [head, ...rows.map((r) => [r.backend, r.mode, r.keys, r.base_rps, `${r.sync_p50_ms} ms`, `${r.sync_p99_ms} ms`, `${r.sync_max_ms} ms`, `${r.async_p50_ms} ms`,
    `${r.during_async_rate_share_p50}x`, `${r.longest_wait_p50_ms}/${r.longest_wait_max_ms} ms`, `${r.written_mb_p50} MB`, `${r.cpu_s}/${r.wall_s} s`])];
  const widths = head.map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
  process.stdout.write(`${table.map((r) => r.map((c, i) => String(c).padEnd(widths[i] as number)).join('  ')).join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ benchmark: 'snapshot-phases', rows, loadavg_1m: [Math.round(load0 * 100) / 100, Math.round(os.loadavg()[0] * 100) / 100], cpus: os.cpus().length })}\n`);
}

void main();
