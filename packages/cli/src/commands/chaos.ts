import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WeirClient } from '../client';

export interface ChaosOptions {
  job: string;
  taskmanagers: number;
  parallelism: number;
  kills: number;
  /** Times to kill -9 the JobManager (restarted on the same store and port). */
  jobmanagerKills: number;
  intervalMs: number;
  records: number;
  keys: number;
  rate: number;
  checkpointMs: number;
  timeoutMs: number;
  seed: number;
  /** Configuration for every process of the cluster (state backend, incremental checkpoints). */
  define?: Record<string, string>;
  /** A heap limit for the TaskManagers (node --max-old-space-size): state larger than memory. */
  taskmanagerHeapMb?: number;
}

/** A small deterministic random source, so a failing run can be repeated with --seed. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function expectedKeyedSum(records: number, keys: number): Map<string, number> {
  const counts = new Map<number, number>();
  const lines = new Map<string, number>();
  for (let i = 1; i <= records; i++) {
    const key = i % keys;
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    lines.set(`${key} ${c}`, 1);
  }
  return lines;
}

/**
 * Chaos drill: a local cluster with spare TaskManagers runs the keyed sum into the
 * exactly-once file sink while TaskManagers are killed with SIGKILL at random and
 * replaced, and, with jobmanagerKills, the JobManager too (restarted at once on the same
 * store and port); at the end the committed output must be exactly the expected one.
 */
export async function runChaos(o: ChaosOptions): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-chaos-'));
  const out = path.join(dir, 'output');
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const rand = random(o.seed);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const defines = [
    'heartbeat.interval=1000', 'heartbeat.timeout=5000', `state.checkpoints.dir=${path.join(dir, 'checkpoints')}`,
    `jobmanager.store.dir=${path.join(dir, 'jobmanager')}`, 'rest.port=0',
    ...Object.entries(o.define ?? {}).map(([k, v]) => `${k}=${v}`),
  ].flatMap((d) => ['-D', d]);
  const children: ChildProcess[] = [];
  const start = (name: string, args: string[], nodeArgs: string[] = []) => {
    const log = openSync(path.join(dir, 'logs', `${name}.log`), 'a');
    const child = spawn(process.execPath, [...nodeArgs, __filename, ...args, ...defines], { stdio: ['ignore', 'ignore', log] });
    children.push(child);
    return child;
  };
  const log = (line: string) => process.stdout.write(`[chaos +${((Date.now() - began) / 1000).toFixed(1)}s] ${line}\n`);
  const began = Date.now();
  const client = new WeirClient(address);
  let taskmanagerCount = 0;
  const heap = o.taskmanagerHeapMb ? [`--max-old-space-size=${o.taskmanagerHeapMb}`] : [];
  const startTaskManager = () => start(`taskmanager-${++taskmanagerCount}`, ['taskmanager', '--jobmanager', address], heap);
  let jobmanager: ChildProcess | undefined;
  let jobmanagerStarts = 0;
  const startJobManager = () => (jobmanager = start(`jobmanager-${++jobmanagerStarts}`, ['jobmanager', '-D', `jobmanager.rpc.port=${port}`]));
  try {
    startJobManager();
    for (let i = 0; i < o.taskmanagers; i++) startTaskManager();
    await until(async () => (await client.call<{ taskmanagers: unknown[] }>('ListTaskManagers', {}, 1000)).taskmanagers.length >= o.taskmanagers, 30_000);
    log(`cluster up: JobManager ${address}, ${o.taskmanagers} TaskManagers (files in ${dir})`);

    const { runJob } = await import('./run');
    const { Configuration } = await import('@weir/core');
    const define = { 'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.attempts': '1000', 'restart-strategy.fixed-delay.delay': '100ms' };
    const silence = process.stdout.write.bind(process.stdout);
    let jobId = '';
    process.stdout.write = ((chunk: string) => ((jobId = /JobID ([0-9a-f]{32})/.exec(String(chunk))?.[1] ?? jobId), true)) as typeof process.stdout.write;
    try {
      await runJob(o.job, [out, String(o.records), String(o.keys), String(o.rate), String(o.checkpointMs)], {
        parallelism: o.parallelism, detached: true, jobmanager: address, config: new Configuration(), define,
      });
    } finally {
      process.stdout.write = silence;
    }
    log(`job ${jobId} submitted: ${o.records} records, ${o.keys} keys, ${o.rate} records/s, checkpoints every ${o.checkpointMs} ms`);

    type Details = { summary: { state: string; restarts: number }; vertices: { subtasks: { taskmanager_id: string }[] }[] };
    // While the JobManager restarts it does not answer: ask again for a while.
    const details = async () => {
      let last: unknown;
      for (let i = 0; i < 100; i++) {
        try {
          return await client.call<Details>('GetJob', { job_id: jobId });
        } catch (err) {
          last = err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      throw last;
    };
    let kills = 0;
    let jobmanagerKills = 0;
    while (kills < o.kills || jobmanagerKills < o.jobmanagerKills) {
      await new Promise((r) => setTimeout(r, o.intervalMs * (0.5 + rand())));
      const d = await details();
      if (['FINISHED', 'FAILED', 'CANCELED'].includes(d.summary.state)) break;
      const jmLeft = o.jobmanagerKills - jobmanagerKills;
      if (rand() * (jmLeft + o.kills - kills) < jmLeft) {
        const victim = jobmanager?.pid as number;
        process.kill(victim, 'SIGKILL');
        await new Promise((r) => jobmanager?.once('exit', r));
        jobmanagerKills++;
        startJobManager();
        log(`JobManager kill ${jobmanagerKills}/${o.jobmanagerKills}: SIGKILL pid ${victim}, started it again on the same store`);
        continue;
      }
      const busy = [...new Set(d.vertices.flatMap((v) => v.subtasks.map((s) => s.taskmanager_id)).filter(Boolean))];
      const pids = busy.map((id) => Number(id.split('-').at(-2))).filter((pid) => children.some((c) => c.pid === pid && c.exitCode === null && c.signalCode === null));
      if (pids.length === 0 || kills >= o.kills) continue;
      const victim = pids[Math.floor(rand() * pids.length)];
      process.kill(victim, 'SIGKILL');
      kills++;
      startTaskManager();
      log(`kill ${kills}/${o.kills}: SIGKILL TaskManager pid ${victim}, started a replacement`);
    }
    const deadline = Date.now() + o.timeoutMs;
    if (o.jobmanagerKills > 0) log(`${jobmanagerKills} JobManager kills, ${kills} TaskManager kills; waiting for the job to end`);
    let final = await details();
    while (!['FINISHED', 'FAILED', 'CANCELED'].includes(final.summary.state) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      final = await details();
    }
    log(`job ${final.summary.state} after ${final.summary.restarts} restarts`);

    const expected = expectedKeyedSum(o.records, o.keys);
    const seen = new Map<string, number>();
    if (existsSync(out)) {
      for (const name of readdirSync(out).filter((n) => n.startsWith('part-'))) {
        for (const line of readFileSync(path.join(out, name), 'utf8').split('\n')) if (line) seen.set(line, (seen.get(line) ?? 0) + 1);
      }
    }
    const missing = [...expected.keys()].filter((l) => !seen.has(l));
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([l, n]) => `${l} (x${n})`);
    const unexpected = [...seen.keys()].filter((l) => !expected.has(l));
    const shared = sharedFilesReport(path.join(dir, 'checkpoints', jobId));
    if (shared.total > 0) log(`shared state files: ${shared.total}, of which not referenced by a retained checkpoint: ${shared.unreferenced.length}`);
    type History = { history: { status: string; state_size: number; checkpointed_size?: number }[] };
    const history = (await client.call<History>('GetCheckpoints', { job_id: jobId }).catch(() => ({ history: [] }))).history.filter((h) => h.status === 'COMPLETED');
    const incremental = history.filter((h) => Number(h.checkpointed_size ?? h.state_size) < Number(h.state_size)).length;
    if (incremental > 0) log(`incremental checkpoints: ${incremental} of ${history.length} completed wrote less than the whole state`);
    const pass = final.summary.state === 'FINISHED' && missing.length === 0 && duplicated.length === 0 && unexpected.length === 0 && shared.unreferenced.length === 0;
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${pass ? 'PASS' : 'FAIL'}: ${kills} kills, ${o.jobmanagerKills > 0 ? `${jobmanagerKills} JobManager kills, ` : ''}${final.summary.restarts} restarts, job ${final.summary.state}, ${total} committed lines, expected ${expected.size}; ` +
        `missing ${missing.length}, duplicated ${duplicated.length}, unexpected ${unexpected.length}\n`,
    );
    if (!pass) {
      for (const [label, list] of [['missing', missing], ['duplicated', duplicated], ['unexpected', unexpected], ['unreferenced shared files', shared.unreferenced]] as const) {
        if (list.length) process.stdout.write(`  ${label} (first 10): ${list.slice(0, 10).join(', ')}\n`);
      }
      process.stdout.write(`  logs: ${path.join(dir, 'logs')}\n`);
    }
    return pass ? 0 : 1;
  } finally {
    client.close();
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill('SIGKILL');
  }
}

/** Incremental checkpoints: every file left in shared/ must be named by a retained checkpoint. */
function sharedFilesReport(jobDir: string): { total: number; unreferenced: string[] } {
  const sharedDir = path.join(jobDir, 'shared');
  if (!existsSync(sharedDir)) return { total: 0, unreferenced: [] };
  const referenced = new Set<string>();
  for (const name of readdirSync(jobDir).filter((n) => /^chk-\d+$/.test(n))) {
    const meta = path.join(jobDir, name, '_metadata');
    if (!existsSync(meta)) continue;
    const handles = (JSON.parse(readFileSync(meta, 'utf8')) as { handles: Record<string, { path: string }[]> }).handles;
    for (const list of Object.values(handles)) for (const h of list) referenced.add(path.basename(h.path));
  }
  const files = readdirSync(sharedDir);
  return { total: files.length, unreferenced: files.filter((f) => !referenced.has(f)) };
}

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the cluster did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
