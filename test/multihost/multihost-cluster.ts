/**
 * A Weir cluster whose JobManager, TaskManagers and object store each run on their own
 * host (network namespace, see network.ts): they reach each other only over the test's
 * bridge, checkpoints go to the S3 server, and each process has a working directory of
 * its own. The test's CLI speaks from the switch namespace. Every process is stopped by
 * its own pid in stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor, WEIR, type CheckpointsJson, type CliResult, type JobStatusJson } from '../harness';
import { startS3Server, type S3Server } from '../s3/s3-server';
import type { TestNetwork } from './network';

const JM_PORT = 6123;
export const BUCKET = 'weir';

export class MultiHostCluster {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'weir-multihost-'));
  s3?: S3Server;
  jobmanager?: ChildProcess;
  readonly taskmanagers = new Map<string, ChildProcess>();
  private readonly all: ChildProcess[] = [];

  constructor(
    readonly network: TestNetwork,
    private readonly config: Record<string, string | number> = {},
  ) {}

  get jobmanagerAddress(): string {
    return `${this.network.host('jm').address}:${JM_PORT}`;
  }

  private defines(extra: Record<string, string | number>): string[] {
    const merged = {
      'heartbeat.interval': 500,
      'heartbeat.timeout': 3000,
      'state.checkpoints.dir': `s3://${BUCKET}/checkpoints`,
      ...(this.s3?.config ?? {}),
      ...this.config,
      ...extra,
    };
    return Object.entries(merged).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  }

  /** A weir process on a host, in a working directory of its own. */
  private spawnOn(host: string, name: string, args: string[]): ChildProcess {
    const cwd = path.join(this.dir, name);
    mkdirSync(cwd, { recursive: true });
    const log = openSync(path.join(this.dir, `${name}.log`), 'a');
    const child = spawn('ip', ['netns', 'exec', this.network.host(host).netns, process.execPath, WEIR, ...args], { cwd, stdio: ['ignore', log, log] });
    this.all.push(child);
    return child;
  }

  log(name: string): string {
    try {
      return readFileSync(path.join(this.dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  async startObjectStore(): Promise<S3Server> {
    const host = this.network.host('s3');
    this.s3 = await startS3Server({ host: host.address, port: 7070, netns: host.netns, dataDir: path.join(this.dir, 's3-data') });
    await this.s3.createBucket(BUCKET);
    return this.s3;
  }

  async startJobManager(): Promise<void> {
    const host = this.network.host('jm');
    this.jobmanager = this.spawnOn('jm', 'jobmanager', ['jobmanager', ...this.defines({
      'jobmanager.rpc.port': JM_PORT, 'rest.port': 8081, 'jobmanager.bind-host': host.address, 'jobmanager.rpc.address': host.address,
      'jobmanager.store.dir': path.join(this.dir, 'jobmanager', 'store'),
    })]);
    await waitFor('the JobManager to answer', async () => (await this.cli(['taskmanagers', '--json'])).code === 0, 60_000, 300);
  }

  async startTaskManager(hostName: string): Promise<ChildProcess> {
    const host = this.network.host(hostName);
    const before = (await this.listTaskManagers()).length;
    const child = this.spawnOn(hostName, hostName, ['taskmanager', '--jobmanager', this.jobmanagerAddress, '--slots', '1', ...this.defines({
      'taskmanager.host': host.address, 'taskmanager.bind-host': host.address,
    })]);
    this.taskmanagers.set(hostName, child);
    await waitFor(`TaskManager ${hostName} to register`, async () => (await this.listTaskManagers()).length > before, 60_000, 300);
    return child;
  }

  /** The CLI from the switch namespace: it reaches the JobManager over the bridge only. */
  cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
    const split = args.indexOf('--');
    const withAddress = split < 0 ? [...args, '--jobmanager', this.jobmanagerAddress] : [...args.slice(0, split), '--jobmanager', this.jobmanagerAddress, ...args.slice(split)];
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', this.network.switchNs, process.execPath, WEIR, ...withAddress], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
    });
  }

  async listTaskManagers(): Promise<{ id: string; host: string; pid: number }[]> {
    const r = await this.cli(['taskmanagers', '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  async submit(jobFile: string, jobArgs: string[], options: string[] = []): Promise<string> {
    const r = await this.cli(['run', jobFile, '--detached', ...options, '--', ...jobArgs], 120_000);
    const id = /JobID ([0-9a-f]{32})/.exec(r.stdout)?.[1];
    if (r.code !== 0 || !id) throw new Error(`submission failed (${r.code}): ${r.stderr}`);
    return id;
  }

  async status(jobId: string): Promise<JobStatusJson> {
    const r = await this.cli(['status', jobId, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  async checkpoints(jobId: string): Promise<CheckpointsJson & { history: { put_count: number; bytes_written: number }[] }> {
    const r = await this.cli(['checkpoints', jobId, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  waitForState(jobId: string, states: string[], timeoutMs = 120_000): Promise<JobStatusJson> {
    return waitFor(`job ${jobId} to reach ${states.join('/')}`, async () => {
      const s = await this.status(jobId);
      return states.includes(s.summary.state) ? s : undefined;
    }, timeoutMs, 500);
  }

  /** The host a job's subtask runs on, by the TaskManager's advertised address. */
  async hostOf(taskmanagerId: string): Promise<string> {
    const tm = (await this.listTaskManagers()).find((t) => t.id === taskmanagerId);
    const host = [...this.network.hosts.values()].find((h) => h.address === tm?.host);
    if (!host) throw new Error(`no host for TaskManager ${taskmanagerId}`);
    return host.name;
  }

  /** Kills every process by its pid and waits (at most 10 s) until they are gone: the next test binds the same addresses. */
  async stop(): Promise<void> {
    const gone: Promise<unknown>[] = [];
    for (const child of this.all) {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        gone.push(new Promise((resolve) => child.once('exit', resolve)));
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await Promise.race([Promise.all(gone), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await this.s3?.stop();
  }
}
