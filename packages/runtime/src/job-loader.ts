import Module, { createRequire } from 'node:module';
import path from 'node:path';
import * as api from '@weir/api';
import { StreamExecutionEnvironment, type JobPlan } from '@weir/api/src/internal';
import { JobError } from '@weir/core';

export interface JobDefaults {
  parallelism: number;
  maxParallelism: number;
}

type JobFunction = (env: StreamExecutionEnvironment, args: string[]) => unknown;

/**
 * Evaluates a bundled job module (CommonJS, with `@weir/api` left out of the bundle) so
 * that the job shares this process's api, then records the plan: from its default export,
 * or from the pipeline a script-style module built on `getExecutionEnvironment()`.
 */
export async function loadJobPlan(bundle: string, args: string[], defaults: JobDefaults, filename = 'job.js'): Promise<JobPlan> {
  const env = new StreamExecutionEnvironment(defaults);
  const jobFunction = StreamExecutionEnvironment.withAmbient(env, () => evaluateJobModule(bundle, filename));
  if (jobFunction) {
    try {
      await StreamExecutionEnvironment.withAmbient(env, () => jobFunction(env, args));
    } catch (err) {
      throw new JobError(`the job's default export failed while building the pipeline: ${describeUserError(err)}`, { cause: err });
    }
  } else if (!env.hasPipeline()) {
    throw new JobError('the job module has no default export function and built no pipeline: export default (env, args) => { ... }, or build one on StreamExecutionEnvironment.getExecutionEnvironment()');
  }
  try {
    return env.buildPlan();
  } catch (err) {
    throw new JobError(`the job's pipeline is invalid: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Compiles the bundle as a CommonJS module. Going through Module#_compile (not `new
 * Function`) lets Node apply the bundle's inline source map, so stack traces name the
 * job's own file and line when source maps are on (the CLI turns them on at start).
 */
export function evaluateJobModule(bundle: string, filename: string): JobFunction | undefined {
  const file = path.resolve(filename);
  const realRequire = createRequire(file);
  const mod = new Module(file) as Module & { _compile(code: string, filename: string): void };
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  mod.require = ((name: string) => (name === '@weir/api' ? api : realRequire(name))) as NodeJS.Require;
  try {
    mod._compile(bundle, file);
  } catch (err) {
    throw new JobError(`the job module failed to load: ${describeUserError(err)}`, { cause: err });
  }
  const exports = mod.exports as Record<string, unknown>;
  const exported = (exports.default ?? exports) as unknown;
  return typeof exported === 'function' ? (exported as JobFunction) : undefined;
}

/** The message, and where in the job it was thrown: the first frame in the job's own (source-mapped) code. */
function describeUserError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frames = err.stack?.split('\n').filter((l) => /^\s+at /.test(l)) ?? [];
  const own = frames.find((f) => !f.includes(__filename) && !/[( ]node:/.test(f));
  return own ? `${err.message} (${own.trim()})` : err.message;
}
