import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { loadConfiguration } from '@weir/core';
import { WeirClient } from '../client';

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

/**
 * Starts a JobManager and N TaskManagers as separate processes on this machine and stops
 * them all on Ctrl-C or SIGTERM. Their logs go to files; their stdout (print sinks) here.
 */
export async function runCluster(options: ClusterOptions): Promise<number> {
  const script = __filename;
  mkdirSync(options.logDir, { recursive: true });
  const defines = { ...LOCAL_CLUSTER_DEFAULTS, ...options.define };
  const common = [...(options.configFile ? ['--config', options.configFile] : []), ...Object.entries(defines).flatMap(([k, v]) => ['-D', `${k}=${v}`])];
  const children: ChildProcess[] = [];
  let stopping = false;
  const start = (name: string, args: string[]) => {
    const log = openSync(path.join(options.logDir, `${name}.log`), 'a');
    const child = spawn(process.execPath, [script, ...args, ...common], { stdio: ['ignore', 'inherit', log] });
    child.on('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`${name} (pid ${child.pid}) exited with ${signal ?? code}\n`);
    });
    children.push(child);
    return child;
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const address = `localhost:${options.port}`;
  const clusterConfig = loadConfiguration({ file: options.configFile, overrides: defines });
  const restPort = clusterConfig.getNumber('rest.port');
  const restScheme = clusterConfig.get('security.ssl.rest.enabled') === true ? 'https' : 'http';
  const jm = start('jobmanager', ['jobmanager', '-D', `jobmanager.rpc.port=${options.port}`]);
  for (let i = 0; i < options.taskmanagers; i++) start(`taskmanager-${i + 1}`, ['taskmanager', '--jobmanager', address, '--slots', String(options.slots)]);

  const client = new WeirClient(address);
  const deadline = Date.now() + 30_000;
  let ready = false;
  while (!stopping && Date.now() < deadline) {
    try {
      const res = await client.call<{ taskmanagers: unknown[] }>('ListTaskManagers', {}, 1000);
      if (res.taskmanagers.length >= options.taskmanagers) {
        ready = true;
        break;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  client.close();
  if (!ready) {
    process.stderr.write(`the cluster did not come up within 30 s; see the logs in ${options.logDir}\n`);
    stop();
    return 1;
  }
  process.stdout.write(
    `Weir cluster is up: JobManager at ${address} (pid ${jm.pid}), ${options.taskmanagers} TaskManager(s) with ${options.slots} slot(s) each (pids ${children.slice(1).map((c) => c.pid).join(', ')}).\n` +
      `Dashboard and REST API: ${restScheme}://localhost:${restPort}/   Logs: ${options.logDir}. Ctrl-C stops the cluster.\n`,
  );
  await new Promise<void>((resolve) => {
    const check = () => (children.every((c) => c.exitCode !== null || c.signalCode !== null) ? resolve() : setTimeout(check, 200));
    check();
  });
  return stopping ? 0 : 1;
}
