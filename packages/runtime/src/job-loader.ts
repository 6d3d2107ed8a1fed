import { createRequire } from 'node:module';
import path from 'node:path';
import * as api from '@weir/api';
import { StreamExecutionEnvironment, type JobPlan } from '@weir/api/src/internal';
import { JobError } from '@weir/core';

export interface JobDefaults {
  parallelism: number;
  maxParallelism: number;
}

/**
 * Evaluates a bundled job module (CommonJS, with `@weir/api` left out of the bundle) so
 * that the job shares this process's api, then runs its default export to record the plan.
 */
export async function loadJobPlan(bundle: string, args: string[], defaults: JobDefaults, filename = 'job.js'): Promise<JobPlan> {
  const jobFunction = evaluateJobModule(bundle, filename);
  const env = new StreamExecutionEnvironment(defaults);
  try {
    await jobFunction(env, args);
  } catch (err) {
    throw new JobError(`the job's default export failed while building the pipeline: ${(err as Error).message}`, { cause: err });
  }
  try {
    return env.buildPlan();
  } catch (err) {
    throw new JobError(`the job's pipeline is invalid: ${(err as Error).message}`, { cause: err });
  }
}

type JobFunction = (env: StreamExecutionEnvironment, args: string[]) => unknown;

export function evaluateJobModule(bundle: string, filename: string): JobFunction {
  const realRequire = createRequire(path.resolve(filename));
  const jobRequire = (name: string) => (name === '@weir/api' ? api : realRequire(name));
  const module: { exports: Record<string, unknown> } = { exports: {} };
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const wrapper = new Function('module', 'exports', 'require', '__filename', '__dirname', bundle);
    wrapper(module, module.exports, jobRequire, filename, path.dirname(filename));
  } catch (err) {
    throw new JobError(`the job module failed to load: ${(err as Error).message}`, { cause: err });
  }
  const exported = (module.exports.default ?? module.exports) as unknown;
  if (typeof exported !== 'function') {
    throw new JobError('the job module has no default export function: export default (env, args) => { ... }');
  }
  return exported as JobFunction;
}
