import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createWriteStream, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { loadConfiguration } from '@weir/core';
import { WeirClient } from '../client';
import { STOP_WITH_PARENT_ENV, watchParentPid } from '../parent-watch';

export interface ClusterOptions {
  taskmanagers: number;
  slots: number;
  port: number;
  configFile?: string;
  define: Record<string, string>;
  logDir: string;
}

/** Local defaults that make failures visible in seconds, as the issue on recovery asks. */
export const LOCAL_CLUSTER_DEFAULTS: Record<string, string> = {
  'heartbeat.interval': '1000',
  'heartbeat.timeout': '5000',
};

/** Signals that end the cluster; each stops its processes first (SIGKILL is covered by the children's stdin pipe). */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

interface Child {
  name: string;
  process: ChildProcess;
  /** The last line it wrote to stderr, to say why it could not start. */
  lastError: string;
}

/**
 * Starts a JobManager and N TaskManagers as separate processes on this machine and stops
 * them all when the cluster ends: on any catchable signal, when its parent process goes
 * away (`npx weir cluster &` then `kill $!` kills only npx), and, through each child's stdin
 * pipe, even when the cluster is killed with SIGKILL. Their logs go to `<log-dir>/<name>.log`
 * and what the TaskManagers print to `<log-dir>/taskmanager-N.out`, as in Flink's log
 * directory; an attached `weir run` shows what its job prints.
 */
export async function runCluster(options: ClusterOptions): Promise<number> {
  const script = __filename;
  mkdirSync(options.logDir, { recursive: true });
  const defines = { ...LOCAL_CLUSTER_DEFAULTS, ...options.define };
  const common = [...(options.configFile ? ['--config', options.configFile] : []), ...Object.entries(defines).flatMap(([k, v]) => ['-D', `${k}=${v}`])];
  const children: Child[] = [];
  let stopping = false;
  let failed: ((message: string) => void) | undefined;
  const start = (name: string, args: string[]): Child => {
    const out = openSync(path.join(options.logDir, `${name}.out`), 'a');
    const log = createWriteStream(path.join(options.logDir, `${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [script, ...args, ...common], {
      stdio: ['pipe', out, 'pipe'],
      env: { ...process.env, [STOP_WITH_PARENT_ENV]: '1' },
    });
    const entry: Child = { name, process: child, lastError: '' };
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      const lines = chunk.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('{'));
      if (lines.length) entry.lastError = lines[lines.length - 1];
    });
    child.stdin?.on('error', () => {}); // the child may be gone before we close its pipe
    child.on('exit', (code, signal) => {
      if (stopping) return;
      const why = entry.lastError ? `: ${entry.lastError.replace(/^weir: /, '')}` : '';
      // While starting, the one line said is why the cluster could not start.
      if (failed) failed(`${name} could not start${why}`);
      else process.stderr.write(`${name} (pid ${child.pid}) exited with ${signal ?? code}${why}\n`);
    });
    children.push(entry);
    return entry;
  };
  const alive = () => children.filter((c) => c.process.exitCode === null && c.process.signalCode === null);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (stopped) return stopped;
    stopping = true;
    for (const c of alive()) c.process.kill('SIGTERM');
    stopped = new Promise<void>((resolve) => {
      const deadline = Date.now() + 5000;
      const check = () => {
        const left = alive();
        if (left.length === 0) return resolve();
        if (Date.now() > deadline) {
          for (const c of left) c.process.kill('SIGKILL');
          return resolve();
        }
        setTimeout(check, 50);
      };
      check();
    });
    return stopped;
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => void stop().then(() => process.exit(0)));
  watchParentPid(() => void stop().then(() => process.exit(0)));
  // Whatever ends this process (an uncaught error included) ends the children too.
  process.on('exit', () => {
    for (const c of alive()) c.process.kill('SIGTERM');
  });

  const address = `localhost:${options.port}`;
  const config = loadConfiguration({ file: options.configFile, overrides: defines });
  const restPort = config.getNumber('rest.port');
  const restScheme = config.get('security.ssl.rest.enabled') === true ? 'https' : 'http';
  // Taken ports are said before anything starts; the JobManager's own bind stays the last word.
  const taken = await firstTakenPort([
    { host: config.getString('jobmanager.bind-host'), port: options.port, key: 'jobmanager.rpc.port' },
    { host: config.getString('rest.bind-address'), port: restPort, key: 'rest.port' },
  ]);
  if (taken) {
    process.stderr.write(`weir: cannot listen on ${taken.host}:${taken.port} (${taken.key}): address already in use\n`);
    return 1;
  }
  // The JobManager first: a port it cannot bind is said within a second, before any
  // TaskManager starts. Then the TaskManagers; up when every one has registered, down at
  // once when a process exits first.
  const jm = start('jobmanager', ['jobmanager', '-D', `jobmanager.rpc.port=${options.port}`]);
  const startFailure = new Promise<string>((resolve) => (failed = resolve));
  let failure: string | undefined;
  void startFailure.then((m) => (failure = m));
  const client = new WeirClient(address);
  const deadline = Date.now() + 30_000;
  const poll = async (enough: (registered: number) => boolean): Promise<boolean> => {
    while (!stopping && !failure && Date.now() < deadline) {
      try {
        const res = await client.call<{ taskmanagers: unknown[] }>('ListTaskManagers', {}, 1000);
        if (enough(res.taskmanagers.length)) return true;
      } catch {
        // not up yet
      }
      await Promise.race([new Promise((r) => setTimeout(r, 50)), startFailure]);
    }
    return false;
  };
  let ready = await poll(() => true);
  if (ready) {
    for (let i = 0; i < options.taskmanagers; i++) start(`taskmanager-${i + 1}`, ['taskmanager', '--jobmanager', address, '--slots', String(options.slots)]);
    ready = await poll((registered) => registered >= options.taskmanagers);
  }
  client.close();
  failed = undefined;
  if (!ready) {
    if (!stopping) process.stderr.write(`weir: ${failure ?? `the cluster did not come up within 30 s; see the logs in ${options.logDir}`}\n`);
    await stop();
    return 1;
  }
  const tmPids = children.slice(1).map((c) => c.process.pid).join(', ');
  process.stdout.write(
    `Weir cluster is up: JobManager at ${address} (pid ${jm.process.pid}), ${options.taskmanagers} TaskManager(s) with ${options.slots} slot(s) each (pids ${tmPids}).\n` +
      `Dashboard and REST API: ${restScheme}://localhost:${restPort}/   Logs and TaskManager output (*.out): ${options.logDir}.\n` +
      `Ctrl-C (or kill ${process.pid}) stops the cluster.\n`,
  );
  await new Promise<void>((resolve) => {
    const check = () => (alive().length === 0 ? resolve() : setTimeout(check, 200));
    check();
  });
  return stopping ? 0 : 1;
}

/** The first of these ports something else listens on (port 0 is always free). */
async function firstTakenPort(ports: { host: string; port: number; key: string }[]): Promise<{ host: string; port: number; key: string } | undefined> {
  for (const p of ports) {
    if (p.port === 0) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'EADDRINUSE'));
      probe.listen({ host: p.host, port: p.port, exclusive: true }, () => probe.close(() => resolve(true)));
    });
    if (!free) return p;
  }
  return undefined;
}
