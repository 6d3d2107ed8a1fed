import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, TestCluster, waitFor } from '../harness';
import { getJson, httpGet, parsePrometheus, series, type Exposition } from './http';

const JOB_SERIES = [
  'weir_job_number_of_completed_checkpoints',
  'weir_job_number_of_failed_checkpoints',
  'weir_job_last_checkpoint_duration_seconds',
  'weir_job_last_checkpoint_size_bytes',
  'weir_job_num_restarts',
  'weir_job_last_checkpoint_restore_timestamp_seconds',
  'weir_job_checkpoint_alignment_time_seconds',
];
const TASK_SERIES = ['weir_task_records_in_total', 'weir_task_records_out_total', 'weir_task_output_buffer_usage'];

async function scrape(port: number): Promise<Exposition> {
  const r = await httpGet(port, '/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(r.text);
}

describe('Prometheus metrics', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = new TestCluster({}, 'weir-metrics-');
    await cluster.start(1, 2);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('the parser rejects what Prometheus would reject', () => {
    expect(() => parsePrometheus('# TYPE a gauge\na{b="c"} 1\n')).not.toThrow();
    expect(() => parsePrometheus('a 1\n')).toThrow(/before its TYPE/);
    expect(() => parsePrometheus('# TYPE a gauge\na{b=c} 1\n')).toThrow(/malformed/);
    expect(() => parsePrometheus('# TYPE a gauge\na one\n')).toThrow(/bad value/);
    expect(() => parsePrometheus('# TYPE a thing\n')).toThrow(/unknown metric type/);
  });

  it('serves job metrics on the JobManager and task metrics on each TaskManager', async () => {
    const jobId = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [path.join(cluster.dir, 'out'), '100000', '10', '10000', '200']);
    const checkpoints = await waitFor('2 completed checkpoints', async () => {
      const c = await getJson(cluster.restPort, `/jobs/${jobId}/checkpoints`);
      return c.counts.completed >= 2 ? c : undefined;
    }, 30_000, 200);

    // JobManager: Flink's job and checkpoint metrics, labelled with the job id.
    const jm = await scrape(cluster.restPort);
    for (const name of JOB_SERIES) {
      expect(jm.types.get(name), name).toBe('gauge');
      expect(jm.help.get(name), name).toBeTruthy();
      expect(series(jm, name, { job_id: jobId }), name).toHaveLength(1);
    }
    const completed = series(jm, 'weir_job_number_of_completed_checkpoints', { job_id: jobId })[0].value;
    expect(completed).toBeGreaterThanOrEqual(checkpoints.counts.completed);
    expect(series(jm, 'weir_job_last_checkpoint_size_bytes', { job_id: jobId })[0].value).toBeGreaterThan(0);
    expect(series(jm, 'weir_job_last_checkpoint_duration_seconds', { job_id: jobId })[0].value).toBeGreaterThanOrEqual(0);
    expect(series(jm, 'weir_job_num_restarts', { job_id: jobId })[0].value).toBe(0);
    expect(series(jm, 'weir_job_last_checkpoint_restore_timestamp_seconds', { job_id: jobId })[0].value).toBe(0);
    expect(series(jm, 'weir_jobmanager_taskmanagers')[0].value).toBe(1);
    expect(series(jm, 'weir_jobmanager_slots_total')[0].value).toBe(2);
    expect(series(jm, 'weir_jobmanager_jobs', { state: 'RUNNING' })[0].value).toBe(1);
    // Default process metrics of prom-client.
    expect(jm.types.get('process_cpu_seconds_total')).toBe('counter');
    expect(series(jm, 'process_resident_memory_bytes')[0]?.value).toBeGreaterThan(0);
    expect(jm.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');

    // TaskManager: its own port, as registered with the JobManager (`weir taskmanagers --json`).
    const r = await cluster.cli(['taskmanagers', '--json']);
    const [tm] = JSON.parse(r.stdout) as { id: string; metrics_port: number }[];
    expect(tm.metrics_port).toBeGreaterThan(0);
    expect(tm.metrics_port).not.toBe(cluster.restPort);
    const taskMetrics = await waitFor('records counted on the TaskManager', async () => {
      const e = await scrape(tm.metrics_port);
      const sinkIn = series(e, 'weir_task_records_in_total', { job_id: jobId }).find((s) => s.labels.task.startsWith('v2#'));
      return sinkIn && sinkIn.value > 0 ? e : undefined;
    }, 15_000, 300);
    expect(taskMetrics.types.get('weir_task_records_in_total')).toBe('counter');
    expect(taskMetrics.types.get('weir_task_records_out_total')).toBe('counter');
    expect(taskMetrics.types.get('weir_task_output_buffer_usage')).toBe('gauge');
    const job = await getJson(cluster.restPort, `/jobs/${jobId}`);
    const tasks = job.vertices.flatMap((v: { id: string; subtasks: { subtask: number; attempt: number }[] }) => v.subtasks.map((s) => `${v.id}#${s.subtask}@${s.attempt}`)).sort();
    for (const name of TASK_SERIES) {
      expect(series(taskMetrics, name, { job_id: jobId }).map((s) => s.labels.task).sort(), name).toEqual(tasks);
    }
    const sourceOut = series(taskMetrics, 'weir_task_records_out_total', { job_id: jobId, task: tasks[0] })[0].value;
    expect(sourceOut).toBeGreaterThan(0);
    for (const s of series(taskMetrics, 'weir_task_output_buffer_usage')) {
      expect(s.value).toBeGreaterThanOrEqual(0);
      expect(s.value).toBeLessThanOrEqual(1);
    }
    expect(taskMetrics.types.get('process_cpu_seconds_total')).toBe('counter');

    // Counters only grow while the job runs.
    await new Promise((res) => setTimeout(res, 1500));
    const later = await scrape(tm.metrics_port);
    expect(series(later, 'weir_task_records_out_total', { job_id: jobId, task: tasks[0] })[0]?.value ?? Infinity).toBeGreaterThanOrEqual(sourceOut);
    await cluster.cli(['cancel', jobId]);
  }, 90_000);
});
