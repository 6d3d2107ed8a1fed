import path from 'node:path';
import { Configuration, JobError } from '@weir/core';
import { loadJobPlan } from '@weir/runtime';
import { bundleJob } from '../bundle';
import { typecheckJob } from '../typecheck';
import { WeirClient } from '../client';
import { followJob } from './follow';

export interface RunOptions {
  parallelism?: number;
  detached?: boolean;
  /** Bundle without type-checking (for jobs whose types are knowingly loose). */
  noTypecheck?: boolean;
  jobmanager: string;
  config: Configuration;
  define: Record<string, string>;
  /** `-s`: a savepoint or retained checkpoint to start from. */
  fromSavepoint?: string;
  allowNonRestoredState?: boolean;
  dryRun?: boolean;
}

/** Bundles the job, records its graph, submits both, and follows the job unless detached. */
export async function runJob(file: string, args: string[], options: RunOptions): Promise<number> {
  if (!options.noTypecheck) typecheckJob(file);
  const bundle = await bundleJob(file);
  const parallelism = options.parallelism ?? options.config.getNumber('parallelism.default');
  const maxParallelism = options.config.getNumber('pipeline.max-parallelism');
  const plan = await loadJobPlan(bundle, args, { parallelism, maxParallelism }, path.resolve(file));
  if (plan.graph.name === 'weir-job') plan.graph.name = path.basename(file).replace(/\.[cm]?[jt]s$/, '');
  // Validate the job's own settings here too, so a typo fails before submission.
  try {
    new Configuration(plan.graph.config);
  } catch (err) {
    throw new JobError(`the job sets an invalid configuration: ${(err as Error).message}`);
  }
  const submitConfig: Record<string, string> = { ...options.define, 'parallelism.default': String(parallelism) };
  // The JobManager reads the path: relative ones are meant from where the user is.
  if (options.fromSavepoint) submitConfig['execution.savepoint.path'] = path.resolve(options.fromSavepoint);
  if (options.allowNonRestoredState) submitConfig['execution.savepoint.ignore-unclaimed-state'] = 'true';
  if (options.dryRun && !submitConfig['execution.savepoint.path'] && !options.config.getOptionalString('execution.savepoint.path')) {
    throw new JobError('--dry-run checks a restore: give the savepoint or checkpoint to start from with -s <path>');
  }
  const client = new WeirClient(options.jobmanager);
  try {
    const { job_id, restore_report } = await client.call<{ job_id: string; restore_report: string }>(
      'SubmitJob', { graph: plan.graph, bundle: Buffer.from(bundle), args, config: submitConfig, dry_run: !!options.dryRun }, 30_000,
    );
    if (restore_report) process.stdout.write(`${restore_report}\n`);
    if (options.dryRun) return 0;
    process.stdout.write(`Job has been submitted with JobID ${job_id}\n`);
    if (options.detached) return 0;
    return await followJob(client, job_id, { printOutput: true });
  } finally {
    client.close();
  }
}
