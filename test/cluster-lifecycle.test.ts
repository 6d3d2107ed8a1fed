import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, freePort, listening, waitFor, WEIR } from './harness';

/**
 * `weir cluster` takes its processes down however it ends: a wrapper parent (npx) killed,
 * the cluster itself SIGKILLed or hung up on; and a port that is taken ends it at once with
 * one line naming the port's configuration key.
 */
const ROOT = path.resolve(__dirname, '..');

interface StartedCluster {
  wrapper: ChildProcess;
  clusterPid: number;
  childPids: number[];
  port: number;
  restPort: number;
}

const started: number[] = [];

afterEach(() => {
  // Whatever a failed assertion left behind, by its own pid.
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

async function startCluster(command: string, args: string[]): Promise<StartedCluster> {
  const port = await freePort();
  const restPort = await freePort();
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'weir-lifecycle-'));
  const wrapper = spawn(command, [...args, 'cluster', '--taskmanagers', '1', '--port', String(port), '-D', `rest.port=${restPort}`, '-D', `jobmanager.store.dir=${logDir}/store`, '-D', `state.checkpoints.dir=${logDir}/checkpoints`, '--log-dir', logDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(wrapper.pid as number);
  let out = '';
  wrapper.stdout?.on('data', (d) => (out += d));
  const banner = await waitFor('the cluster to be up', () => /Weir cluster is up: [\s\S]*stops the cluster\.\n/.exec(out)?.[0], 60_000);
  const childPids = [...banner.matchAll(/pids? ([\d, ]+)\)/g)].flatMap((m) => m[1].split(',').map((x) => Number(x.trim())));
  const clusterPid = Number(/kill (\d+)\)/.exec(banner)?.[1]);
  started.push(clusterPid, ...childPids);
  expect(childPids).toHaveLength(2);
  expect(await listening(port)).toBe(true);
  expect(await listening(restPort)).toBe(true);
  return { wrapper, clusterPid, childPids, port, restPort };
}

async function expectAllGone(c: StartedCluster): Promise<void> {
  await waitFor('the JobManager and TaskManager to exit', () => ![c.clusterPid, ...c.childPids].some(alive), 10_000);
  expect(await listening(c.port)).toBe(false);
  expect(await listening(c.restPort)).toBe(false);
}

describe('weir cluster takes its processes down', () => {
  it('when its wrapper parent is killed: `npx weir cluster &` then `kill $!`', async () => {
    const c = await startCluster('npx', ['--no-install', 'weir']);
    expect(c.clusterPid).not.toBe(c.wrapper.pid); // npx's child is the cluster, npx the wrapper
    process.kill(c.wrapper.pid as number, 'SIGTERM');
    await expectAllGone(c);
  }, 90_000);

  it('when the cluster process itself is killed with SIGKILL', async () => {
    const c = await startCluster(process.execPath, [WEIR]);
    process.kill(c.clusterPid, 'SIGKILL');
    await expectAllGone(c);
  }, 90_000);

  it('on SIGHUP (the terminal closed)', async () => {
    const c = await startCluster(process.execPath, [WEIR]);
    process.kill(c.clusterPid, 'SIGHUP');
    await expectAllGone(c);
  }, 90_000);
});

describe('a port that is taken', () => {
  let holder: net.Server | undefined;
  afterEach(() => {
    holder?.close();
    holder = undefined;
  });

  async function hold(): Promise<number> {
    const port = await freePort();
    holder = net.createServer();
    await new Promise<void>((resolve) => holder!.listen(port, '127.0.0.1', resolve));
    return port;
  }

  /** Runs weir to its end; `ms` is when its first line on stderr came. */
  function runToExit(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
    const t0 = Date.now();
    let ms = -1;
    const child = spawn(process.execPath, [WEIR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child.pid as number);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      if (ms < 0) ms = Date.now() - t0;
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    return new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, stdout, stderr, ms });
      }),
    );
  }

  it('ends weir cluster within 2 s with one line naming rest.port, and leaves no process behind', async () => {
    const taken = await hold();
    const port = await freePort();
    const logDir = mkdtempSync(path.join(os.tmpdir(), 'weir-lifecycle-'));
    const r = await runToExit(['cluster', '--taskmanagers', '1', '--port', String(port), '-D', `rest.port=${taken}`, '--log-dir', logDir]);
    console.log(`weir cluster with rest.port taken said why after ${r.ms} ms`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`weir: cannot listen on 127.0.0.1:${taken} (rest.port): address already in use\n`);
    expect(r.ms).toBeLessThan(2000);
    expect(await listening(port)).toBe(false);
  }, 60_000);

  it('ends weir jobmanager at once with one line naming jobmanager.rpc.port or rest.port', async () => {
    const taken = await hold();
    const r = await runToExit(['jobmanager', '-D', `jobmanager.rpc.port=${taken}`, '-D', 'rest.port=0', '-D', 'jobmanager.bind-host=127.0.0.1', '-D', `jobmanager.store.dir=${mkdtempSync(path.join(os.tmpdir(), 'weir-lifecycle-'))}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`weir: cannot listen on 127.0.0.1:${taken} (jobmanager.rpc.port): address already in use\n`);
    const rest = await runToExit(['jobmanager', '-D', 'jobmanager.rpc.port=0', '-D', `rest.port=${taken}`, '-D', 'rest.bind-address=127.0.0.1', '-D', `jobmanager.store.dir=${mkdtempSync(path.join(os.tmpdir(), 'weir-lifecycle-'))}`]);
    expect(rest.code).toBe(1);
    expect(rest.stderr).toBe(`weir: cannot serve the REST API on 127.0.0.1:${taken} (rest.port): address already in use\n`);
  }, 30_000);

  it('npm run demo picks free ports: it runs even with 8081 (rest.port default) taken', async () => {
    const held = net.createServer();
    // Taken by us or by someone else: either way 8081 is taken.
    await new Promise<void>((resolve) => held.once('error', () => resolve()).listen(8081, '127.0.0.1', () => resolve()));
    try {
      const child = spawn(process.execPath, [path.join(ROOT, 'scripts/demo.mjs')], { cwd: mkdtempSync(path.join(os.tmpdir(), 'weir-demo-')), stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(child.pid as number);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
      expect(out).toContain('FINISHED');
      expect(out).toMatch(/^[12]> the 3$/m);
      expect(code).toBe(0);
    } finally {
      held.close();
    }
  }, 90_000);
});
