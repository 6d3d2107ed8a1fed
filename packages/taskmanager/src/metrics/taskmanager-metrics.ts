import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { taskName, type TaskMetrics } from '@weir/core';

/**
 * A TaskManager's Prometheus metrics. Slot threads report their tasks' counters every
 * second; we keep each slot's latest report and turn it into series only when scraped, so
 * a task that ended (its slot stops reporting it) drops out with the next report.
 */
export class TaskManagerMetrics {
  readonly registry = new Registry();
  private readonly reports = new Map<number, TaskMetrics[]>();

  constructor(readonly taskmanagerId: string) {
    collectDefaultMetrics({ register: this.registry });
    const tasks = () => [...this.reports.values()].flat();
    const labels = (t: TaskMetrics) => ({ job_id: t.task.job_id, task: taskName(t.task.vertex_id, t.task.subtask, t.task.attempt) });
    new Counter({
      name: 'weir_task_records_in_total',
      help: 'Records the task has read from its inputs (Flink: numRecordsIn).',
      labelNames: ['job_id', 'task'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of tasks()) this.inc(labels(t), t.records_in);
      },
    });
    new Counter({
      name: 'weir_task_records_out_total',
      help: 'Records the task has emitted (Flink: numRecordsOut).',
      labelNames: ['job_id', 'task'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of tasks()) this.inc(labels(t), t.records_out);
      },
    });
    new Gauge({
      name: 'weir_task_output_buffer_usage',
      help: 'Share of the output buffers in use, 0..1; near 1 means the task is backpressured (Flink: outPoolUsage).',
      labelNames: ['job_id', 'task'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of tasks()) this.set(labels(t), t.output_buffer_usage);
      },
    });
    new Gauge({
      name: 'weir_taskmanager_running_tasks',
      help: 'Tasks running in this TaskManager.',
      registers: [this.registry],
      collect() {
        this.set(tasks().length);
      },
    });
  }

  /** The latest report of one slot replaces its previous one. */
  report(slot: number, tasks: TaskMetrics[]): void {
    this.reports.set(slot, tasks);
  }

  clear(): void {
    this.reports.clear();
  }

  /** Serves `/metrics` (Prometheus text format) on its own port; returns the bound port. */
  async listen(host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    // A scrape must never keep the process alive on its own.
    server.unref();
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
