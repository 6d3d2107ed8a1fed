import { spawn, type SpawnOptions } from 'node:child_process';

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/**
 * spawnSync's result, without blocking the test worker's event loop while the child runs:
 * a long synchronous child starves vitest's own messages (onTaskUpdate) under load. As
 * with spawnSync, `timeout` kills the child with SIGTERM and the result says so.
 */
export function runAsync(cmd: string, args: string[], options: Omit<SpawnOptions, 'stdio' | 'timeout'> & { timeout?: number } = {}): Promise<RunResult> {
  const { timeout, ...spawnOptions } = options;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let error: Error | undefined;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = timeout ? setTimeout(() => child.kill('SIGTERM'), timeout) : undefined;
    child.on('error', (err) => (error = err));
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ...(error ? { error } : {}) });
    });
  });
}
