// End-to-end drill in Docker: JobManager + 3 TaskManagers from docker-compose.yml,
// a job submitted from the host, one TaskManager killed with `docker kill`, and
// the exactly-once file sink output checked from the host.
//
// Slow (builds images, starts containers): runs only with WEIR_DOCKER_TESTS=1.
//   WEIR_DOCKER_TESTS=1 npx vitest run test/docker/docker-e2e.test.ts
// Needs root (or a docker group user) on a machine where scripts/ci/ensure-docker.sh
// can install/start Docker. Knobs: WEIR_DOCKER_STANDIN=1 builds the image from the
// stand-in bundle (test/docker/standin/weir.cjs) instead of the real Weir build;
// WEIR_DOCKER_KEEP=1 leaves the cluster running after the test for inspection.
//
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAsync } from '../run-async';

const ROOT = path.resolve(__dirname, '../..');
const ENABLED = process.env.WEIR_DOCKER_TESTS === '1';
const STANDIN = process.env.WEIR_DOCKER_STANDIN === '1';
// The host-side CLI talks to the dockerized JobManager; with the stand-in image use the stand-in CLI.
const WEIR = STANDIN ? path.join(ROOT, 'test/docker/standin/weir.cjs') : path.join(ROOT, 'packages/cli/dist/weir.cjs');
const TASKMANAGERS = 3;
const AS_ROOT = process.getuid?.() === 0;
// compose v1 strips everything but [a-z0-9] from project names; keep it plain.
const PROJECT = `weire2e${process.pid}`;

const timings: Record<string, number> = {};
let compose: string[] = ['docker', 'compose'];
let outputDir = '';
// Where compose's security-init writes the CA, certificates, token and client.yaml (TLS and a token are on).
let securityDir = '';
let jmPort = 0;
let restPort = 0;
let clusterStarted = false;

function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; quiet?: boolean } = {}): string {
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...composeEnv(), ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  }
  if (!opts.quiet && r.stderr) process.stderr.write(r.stderr);
  return r.stdout;
}

/** sh for commands that take more than a few seconds (installs, image builds, compose up/down): the test worker's event loop keeps running meanwhile. */
async function shAsync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; quiet?: boolean } = {}): Promise<string> {
  const r = await runAsync(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...composeEnv(), ...opts.env },
    timeout: opts.timeoutMs ?? 600_000,
  });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  }
  if (!opts.quiet && r.stderr) process.stderr.write(r.stderr);
  return r.stdout;
}

function composeEnv(): NodeJS.ProcessEnv {
  return {
    WEIR_OUTPUT_DIR: outputDir,
    WEIR_SECURITY_DIR: securityDir,
    WEIR_JM_RPC_PORT: String(jmPort),
    WEIR_REST_PORT: String(restPort),
    // Not root: the containers run as us, the owner of the output directory mkdtemp makes.
    ...(AS_ROOT ? {} : { WEIR_HOST_UID: String(process.getuid?.()), WEIR_HOST_GID: String(process.getgid?.()) }),
  };
}

function composeArgs(args: string[]): [string, string[]] {
  return [compose[0]!, [...compose.slice(1), '-p', PROJECT, '-f', path.join(ROOT, 'docker-compose.yml'), ...args]];
}

function dc(...args: string[]): string {
  return sh(...composeArgs(args));
}

/** dc for `up` and `down`, which pull, create and stop containers: seconds to minutes. */
function dcAsync(...args: string[]): Promise<string> {
  return shAsync(...composeArgs(args));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host, timeout: 1000 });
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('timeout', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the host-side CLI (packages/cli/dist/weir.cjs) against the dockerized JobManager. */
function weir(...args: string[]): string {
  // Options go before a `--` that starts the job's own arguments.
  const split = args.indexOf('--');
  const mine = ['--jobmanager', `localhost:${jmPort}`, ...(STANDIN ? [] : ['--config', path.join(securityDir, 'client.yaml')])];
  const withAddress = split < 0 ? [...args, ...mine] : [...args.slice(0, split), ...mine, ...args.slice(split)];
  return sh(process.execPath, [WEIR, ...withAddress], { quiet: true, timeoutMs: 30_000 });
}

/** Number of TaskManagers the JobManager reports, or undefined when the CLI cannot say. */
function registeredTaskManagers(): number | undefined {
  try {
    const parsed: unknown = JSON.parse(weir('taskmanagers', '--json'));
    if (Array.isArray(parsed)) return parsed.length;
    if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { taskmanagers?: unknown }).taskmanagers)) {
      return (parsed as { taskmanagers: unknown[] }).taskmanagers.length;
    }
  } catch {
    // CLI command not there yet, or JobManager not up: caller falls back.
  }
  return undefined;
}

/** Container ids of this project's service, running ones only unless all=true. */
function containers(service: string, all = false): string[] {
  return sh('docker', [
    'ps', ...(all ? ['-a'] : []), '-q',
    '--filter', `label=com.docker.compose.project=${PROJECT}`,
    '--filter', `label=com.docker.compose.service=${service}`,
  ], { quiet: true }).split('\n').filter(Boolean);
}

function healthyCount(): number {
  return sh('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'health=healthy'], { quiet: true })
    .split('\n').filter(Boolean).length;
}

/** Waits until the JobManager reports `n` TaskManagers (falls back to docker health + TCP when the CLI can't tell). */
async function waitForTaskManagers(n: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string = '';
  while (Date.now() < deadline) {
    const reported = registeredTaskManagers();
    if (reported !== undefined) {
      last = `JobManager reports ${reported} TaskManagers`;
      if (reported === n) return;
    } else {
      const healthy = healthyCount();
      const open = await tcpOpen(jmPort);
      last = `${healthy} healthy containers, JobManager port ${open ? 'open' : 'closed'} (weir taskmanagers --json unavailable)`;
      if (open && healthy === n + 1) return;
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${n} TaskManagers: ${last}`);
}

/** Lists files under the bind-mounted output dir (what the exactly-once sink committed). */
function committedOutputFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(outputDir, p));
    }
  };
  walk(outputDir);
  return out.sort();
}

function dumpLogs(): void {
  try {
    const logs = dc('logs', '--no-color', '--tail', '200');
    process.stderr.write(`---- ${PROJECT} logs ----\n${logs}\n`);
  } catch (e) {
    process.stderr.write(`could not read compose logs: ${(e as Error).message}\n`);
  }
}

describe.runIf(ENABLED)('docker e2e: JobManager + 3 TaskManagers', () => {
  beforeAll(async () => {
    // Docker engine + compose command.
    const ensure = await shAsync('bash', [path.join(ROOT, 'scripts/ci/ensure-docker.sh')], { timeoutMs: 600_000 });
    const m = /^COMPOSE="(.+)"$/m.exec(ensure);
    if (m) compose = m[1]!.split(' ');

    // Images: base (pull or local debootstrap stand-in) + weir:local.
    let t0 = Date.now();
    const buildArgs = STANDIN ? ['--standin'] : [];
    await shAsync('bash', [path.join(ROOT, 'scripts/docker/build.sh'), ...buildArgs], { timeoutMs: 1_200_000 });
    timings.buildSeconds = (Date.now() - t0) / 1000;

    outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-docker-output-'));
    // Left as mkdtemp made them (root's, 0700 under CI): the compose file's prepare service must cope.
    securityDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-docker-security-'));
    jmPort = process.env.WEIR_JM_RPC_PORT ? Number(process.env.WEIR_JM_RPC_PORT) : await freePort();
    restPort = process.env.WEIR_REST_PORT ? Number(process.env.WEIR_REST_PORT) : await freePort();

    t0 = Date.now();
    clusterStarted = true; // from here on afterAll tears down, even if `up` fails half-way
    await dcAsync('up', '-d', '--scale', `taskmanager=${TASKMANAGERS}`);
    await waitForTaskManagers(TASKMANAGERS);
    timings.upToReadySeconds = (Date.now() - t0) / 1000;
  }, 1_800_000);

  afterAll(async () => {
    const t0 = Date.now();
    if (clusterStarted) {
      if (process.env.WEIR_DOCKER_KEEP === '1') {
        process.stderr.write(`WEIR_DOCKER_KEEP=1: leaving compose project ${PROJECT} up (jobmanager localhost:${jmPort}, output ${outputDir})\n`);
      } else {
        try {
          await dcAsync('down', '-v', '--remove-orphans', '-t', '5');
        } catch (e) {
          process.stderr.write(`compose down failed: ${(e as Error).message}\n`);
        }
      }
    }
    if (outputDir && process.env.WEIR_DOCKER_KEEP !== '1') fs.rmSync(outputDir, { recursive: true, force: true });
    if (securityDir && process.env.WEIR_DOCKER_KEEP !== '1') fs.rmSync(securityDir, { recursive: true, force: true });
    timings.downSeconds = (Date.now() - t0) / 1000;
    process.stderr.write(`docker e2e timings: ${JSON.stringify(timings)}\n`);
  }, 300_000);

  it.skipIf(STANDIN)('runs with TLS and a token on: plaintext and token-less calls are refused', () => {
    for (const f of ['ca.pem', 'internal.pem', 'client.pem', 'token', 'client.yaml']) expect(fs.existsSync(path.join(securityDir, f)), f).toBe(true);
    const plain = spawnSync(process.execPath, [WEIR, 'list', '--jobmanager', `localhost:${jmPort}`], { encoding: 'utf8', timeout: 30_000 });
    expect(plain.status).toBe(1);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    const noToken = spawnSync(process.execPath, [WEIR, 'list', '--jobmanager', `localhost:${jmPort}`, '-D', 'security.ssl.rest.enabled=true',
      '-D', `security.ssl.rest.ca=${path.join(securityDir, 'ca.pem')}`, '-D', `security.ssl.rest.cert=${path.join(securityDir, 'client.pem')}`,
      '-D', `security.ssl.rest.key=${path.join(securityDir, 'client-key.pem')}`], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, WEIR_AUTH_TOKEN: '' } });
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toMatch(/UNAUTHENTICATED/);
  });

  it('brings up a JobManager and 3 TaskManagers', async () => {
    expect(containers('jobmanager')).toHaveLength(1);
    expect(containers('taskmanager')).toHaveLength(TASKMANAGERS);
    expect(await tcpOpen(jmPort)).toBe(true);
    const reported = registeredTaskManagers();
    if (reported !== undefined) expect(reported).toBe(TASKMANAGERS);
  });

  it.runIf(AS_ROOT)('prepare gave the root-owned output and security directories to the containers\' user (uid 1000)', () => {
    expect(fs.statSync(outputDir).uid).toBe(1000);
    expect(fs.statSync(securityDir).uid).toBe(1000);
  });

  // Only root can make a directory for uid 4242.
  it.runIf(AS_ROOT)('prepare refuses, in one line, to take over a directory that belongs to another user', () => {
    const foreign = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-docker-foreign-'));
    try {
      fs.chownSync(foreign, 4242, 4242);
      fs.chmodSync(foreign, 0o755);
      const r = spawnSync(compose[0]!, [...compose.slice(1), '-p', PROJECT, '-f', path.join(ROOT, 'docker-compose.yml'), 'run', '--rm', 'prepare'], {
        cwd: ROOT, env: { ...process.env, ...composeEnv(), WEIR_OUTPUT_DIR: foreign }, encoding: 'utf8', timeout: 120_000,
      });
      expect(r.status).toBe(1);
      expect(r.stdout + r.stderr).toContain('prepare: /weir/output belongs to uid 4242 and is not writable by uid 1000, the user Weir runs as: make it writable (chmod o+w), or run as its owner (WEIR_HOST_UID=4242 WEIR_HOST_GID=4242)');
    } finally {
      fs.rmSync(foreign, { recursive: true, force: true });
    }
  });

  it('keeps exactly-once output when a TaskManager is killed', async () => {
    const t0 = Date.now();
    try {
      // Submitted from the host: the bundle travels over gRPC; the sink writes to the
      // shared volume, which is outputDir on the host.
      const n = 150_000;
      const keys = 50;
      const submitted = weir('run', path.join(ROOT, 'packages/examples/src/keyed-sum.ts'), '--detached', '-p', '2', '--', '/weir/output', String(n), String(keys), '15000', '300');
      const jobId = /JobID ([0-9a-f]{32})/.exec(submitted)?.[1];
      expect(jobId).toBeDefined();
      const status = () => JSON.parse(weir('status', jobId!, '--json')) as { summary: { state: string; restarts: number }; vertices: { subtasks: { taskmanager_id: string }[] }[]; last_restore_checkpoint_id: number };
      const deadline = Date.now() + 120_000;
      while ((JSON.parse(weir('checkpoints', jobId!, '--json')) as { completed: number }).completed < 2) {
        if (Date.now() > deadline) throw new Error('no checkpoints completed');
        await sleep(300);
      }
      // Kill a TaskManager that runs a task (its hostname, the container id, is in its id).
      const busy = status().vertices[1].subtasks[0].taskmanager_id;
      const victim = containers('taskmanager').find((c) => busy.includes(c.slice(0, 12)));
      expect(victim, `no container for ${busy}`).toBeDefined();
      sh('docker', ['kill', victim!], { quiet: true });
      timings.killedAtSeconds = (Date.now() - t0) / 1000;
      expect(containers('taskmanager')).toHaveLength(TASKMANAGERS - 1);

      // The job recovers onto the spare TaskManager; then a replacement worker comes back.
      let s = status();
      while (s.summary.state !== 'FINISHED') {
        if (s.summary.state === 'FAILED' || Date.now() > deadline + 120_000) throw new Error(`job ended ${s.summary.state}`);
        await sleep(500);
        s = status();
      }
      expect(s.summary.restarts).toBeGreaterThanOrEqual(1);
      expect(s.last_restore_checkpoint_id).toBeGreaterThan(0);
      await dcAsync('up', '-d', '--scale', `taskmanager=${TASKMANAGERS}`);
      await waitForTaskManagers(TASKMANAGERS);

      // Exactly the expected committed output: every key's running count once.
      const records = committedOutputFiles()
        .filter((f) => path.basename(f).startsWith('part-'))
        .flatMap((f) => fs.readFileSync(path.join(outputDir, f), 'utf8').split('\n').filter(Boolean));
      const expected: string[] = [];
      const counts = new Map<number, number>();
      for (let i = 1; i <= n; i++) {
        const c = (counts.get(i % keys) ?? 0) + 1;
        counts.set(i % keys, c);
        expected.push(`${i % keys} ${c}`);
      }
      expect(records.length).toBe(expected.length);
      expect(records.sort()).toEqual(expected.sort());
    } catch (e) {
      dumpLogs();
      throw e;
    } finally {
      timings.drillSeconds = (Date.now() - t0) / 1000;
    }
  }, 600_000);
});

