import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, existsSync, mkdirSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

/**
 * Multi-process test harness: real JobManager and TaskManager processes from the built
 * bundle, real gRPC on loopback, kill -9 on real pids. Every process it starts is stopped
 * by its own pid in stop(), even when a test fails.
 */
/** WEIR_TEST_BUNDLE runs the tests against another build, e.g. to see a test fail on an older commit. */
export const WEIR = process.env.WEIR_TEST_BUNDLE ? path.resolve(process.env.WEIR_TEST_BUNDLE) : path.resolve(__dirname, '../packages/cli/dist/weir.cjs');
export const EXAMPLES = path.resolve(__dirname, '../packages/examples/src');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function weir(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WEIR, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export interface TaskManagerProcess {
  process: ChildProcess;
  pid: number;
  stdout: () => string;
}

export class TestCluster {
  readonly dir: string;
  readonly checkpointDir: string;
  jobmanager?: ChildProcess;
  readonly taskmanagers: TaskManagerProcess[] = [];
  port = 0;
  restPort = 0;
  /** A command every process of the cluster is started under (e.g. one that drops privileges). */
  spawnPrefix: string[] = [];
  /** Options every CLI call of this cluster carries (e.g. `--config client.yaml` for a secured cluster). */
  clientArgs: string[] = [];
  private readonly all: ChildProcess[] = [];

  constructor(
    private readonly config: Record<string, string | number> = {},
    name = 'weir-test-',
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), name));
    this.checkpointDir = path.join(this.dir, 'checkpoints');
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private defines(extra: Record<string, string | number> = {}): string[] {
    const merged: Record<string, string | number> = {
      'heartbeat.interval': 500,
      'heartbeat.timeout': 5000,
      'state.checkpoints.dir': this.checkpointDir,
      'jobmanager.store.dir': path.join(this.dir, 'jobmanager'),
      ...this.config,
      ...extra,
    };
    return Object.entries(merged).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  }

  private spawn(name: string, args: string[], env?: Record<string, string>): ChildProcess {
    mkdirSync(path.join(this.dir, 'logs'), { recursive: true });
    const log = openSync(path.join(this.dir, 'logs', `${name}.log`), 'a');
    const [command, ...prefixArgs] = [...this.spawnPrefix, process.execPath];
    const child = spawn(command!, [...prefixArgs, WEIR, ...args], { cwd: this.dir, stdio: ['ignore', 'pipe', log], env: { ...process.env, ...env } });
    this.all.push(child);
    return child;
  }

  /** `env` reaches only this process: e.g. WEIR_FAULT_POINTS for one JobManager. */
  async startJobManager(extra: Record<string, string | number> = {}, env?: Record<string, string>): Promise<void> {
    this.port ||= await freePort();
    this.restPort ||= await freePort();
    this.jobmanager = this.spawn('jobmanager', ['jobmanager', ...this.defines({ 'jobmanager.rpc.port': this.port, 'rest.port': this.restPort, ...extra })], env);
    await waitFor('the JobManager to answer', async () => (await weir(['taskmanagers', '--json', '--jobmanager', this.address, ...this.clientArgs])).code === 0);
  }

  async startTaskManager(slots = 1, extra: Record<string, string | number> = {}, env?: Record<string, string>): Promise<TaskManagerProcess> {
    const before = (await this.listTaskManagers()).length;
    const child = this.spawn(`taskmanager-${this.taskmanagers.length + 1}`, ['taskmanager', '--jobmanager', this.address, '--slots', String(slots), ...this.defines(extra)], env);
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    const tm = { process: child, pid: child.pid as number, stdout: () => out };
    this.taskmanagers.push(tm);
    await waitFor('the TaskManager to register', async () => (await this.listTaskManagers()).length > before);
    return tm;
  }

  async start(taskmanagers: number, slots = 1): Promise<this> {
    await this.startJobManager();
    for (let i = 0; i < taskmanagers; i++) await this.startTaskManager(slots);
    return this;
  }

  async listTaskManagers(): Promise<{ id: string; pid: number; free_slots: number }[]> {
    const r = await weir(['taskmanagers', '--json', '--jobmanager', this.address, ...this.clientArgs]);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  cli(args: string[], timeoutMs?: number): Promise<CliResult> {
    // Options go before a `--` that starts the job's own arguments.
    const split = args.indexOf('--');
    const mine = ['--jobmanager', this.address, ...this.clientArgs];
    const withAddress = split < 0 ? [...args, ...mine] : [...args.slice(0, split), ...mine, ...args.slice(split)];
    return weir(withAddress, { cwd: this.dir, timeoutMs });
  }

  /** Submits detached; returns the job id. */
  async submit(jobFile: string, jobArgs: string[], options: string[] = []): Promise<string> {
    const r = await weir(['run', jobFile, '--detached', '--jobmanager', this.address, ...this.clientArgs, ...options, '--', ...jobArgs], { cwd: this.dir });
    const id = /JobID ([0-9a-f]{32})/.exec(r.stdout)?.[1];
    if (r.code !== 0 || !id) throw new Error(`submission failed (${r.code}): ${r.stderr}`);
    return id;
  }

  async status(jobId: string): Promise<JobStatusJson> {
    const r = await this.cli(['status', jobId, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  async checkpoints(jobId: string): Promise<CheckpointsJson> {
    const r = await this.cli(['checkpoints', jobId, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  async waitForState(jobId: string, states: string[], timeoutMs = 60_000): Promise<JobStatusJson> {
    return waitFor(`job ${jobId} to reach ${states.join('/')}`, async () => {
      const s = await this.status(jobId);
      return states.includes(s.summary.state) ? s : undefined;
    }, timeoutMs, 200);
  }

  /** Resolves with the signal or code once the JobManager process has exited (bounded). */
  jobManagerExit(timeoutMs = 30_000): Promise<string> {
    const jm = this.jobmanager;
    if (!jm) return Promise.reject(new Error('no JobManager'));
    if (jm.exitCode !== null || jm.signalCode !== null) return Promise.resolve(String(jm.signalCode ?? jm.exitCode));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the JobManager did not exit within ${timeoutMs} ms`)), timeoutMs);
      jm.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(String(signal ?? code));
      });
    });
  }

  /** kill -9 the TaskManager process with this pid. */
  kill(pid: number): void {
    process.kill(pid, 'SIGKILL');
  }

  async stop(): Promise<void> {
    for (const child of this.all) {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

export interface JobStatusJson {
  summary: { job_id: string; name: string; state: string; restarts: number };
  vertices: { id: string; name: string; parallelism: number; subtasks: { subtask: number; state: string; taskmanager_id: string; attempt: number }[] }[];
  failure_cause: string;
  last_restore_checkpoint_id: number;
  last_restore_timestamp: number;
  last_restore_checkpoint_timestamp: number;
  restart_timestamps: number[];
  exceptions: { timestamp: number; task: string; taskmanager_id: string; root_cause: string }[];
  attempt: number;
}

export interface CheckpointsJson {
  completed: number;
  failed: number;
  in_progress: number;
  restored: number;
  latest_completed?: { id: number; path: string };
  history: { id: number; status: string; acknowledged: number; total: number; failure_reason: string; failed_task: string; path: string; final: boolean; state_size: number; max_alignment_ms: number; persisted_data_bytes: number; unaligned: boolean }[];
}

/** The committed (visible) lines of an exactly-once file sink directory. */
export function committedLines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith('part-'))
    .flatMap((n) => readFileSync(path.join(dir, n), 'utf8').split('\n').filter(Boolean));
}

/** What keyed-sum.ts must commit for numbers 1..n over k keys: "key count" for every count. */
export function expectedKeyedSum(n: number, keys: number): string[] {
  const counts = new Map<number, number>();
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) {
    const key = i % keys;
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    lines.push(`${key} ${c}`);
  }
  return lines;
}

/** Multiset difference, for a readable failure: what is missing and what is extra. */
export function diffLines(actual: string[], expected: string[]): { missing: string[]; extra: string[] } {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  const extra: string[] = [];
  for (const a of actual) {
    const c = counts.get(a) ?? 0;
    if (c === 0) extra.push(a);
    else counts.set(a, c - 1);
  }
  const missing = [...counts].flatMap(([line, c]) => Array(c).fill(line));
  return { missing, extra };
}

export interface TimedLine {
  text: string;
  /** Date.now() when the line arrived. */
  at: number;
}

/** Collects a stream's lines with their arrival times, for latency assertions. */
export function timedLines(stream: NodeJS.ReadableStream): TimedLine[] {
  const lines: TimedLine[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer | string) => {
    const at = Date.now();
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) lines.push({ text, at });
  });
  return lines;
}

export interface WeirProcess {
  child: ChildProcess;
  stdout: TimedLine[];
  stderr: () => string;
  exited: Promise<number>;
}

/** A `weir` process that keeps running while the test reads its output as it comes. */
export function spawnWeir(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): WeirProcess {
  const child = spawn(process.execPath, [WEIR, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = timedLines(child.stdout as NodeJS.ReadableStream);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, stdout, stderr: () => stderr, exited };
}

/** Whether a pid is still alive (signal 0 probes without killing). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
