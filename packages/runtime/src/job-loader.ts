import Module, { createRequire } from 'node:module';
import path from 'node:path';
import * as api from '@weir/api';
import { StreamExecutionEnvironment, type JobPlan } from '@weir/api/src/internal';
import { JobError } from '@weir/core';
import { JobSourceMap } from './job-source-map';

export interface JobDefaults {
  parallelism: number;
  maxParallelism: number;
}

type JobFunction = (env: StreamExecutionEnvironment, args: string[]) => unknown;

/** A job's plan, with the bundle's source map to name the job's own lines in its failures. */
export interface LoadedJobPlan extends JobPlan {
  readonly sourceMap?: JobSourceMap;
}

/** A compiled job module: what it exports, and its source map. */
export interface JobModule {
  jobFunction?: JobFunction;
  sourceMap?: JobSourceMap;
}

/**
 * Evaluates a bundled job module (CommonJS, with `@weir/api` left out of the bundle) so
 * that the job shares this process's api, then records the plan: from its default export,
 * or from the pipeline a script-style module built on `getExecutionEnvironment()`.
 */
export async function loadJobPlan(bundle: string, args: string[], defaults: JobDefaults, filename = 'job.js'): Promise<LoadedJobPlan> {
  const env = new StreamExecutionEnvironment(defaults);
  const { jobFunction, sourceMap } = StreamExecutionEnvironment.withAmbient(env, () => compileJobModule(bundle, filename));
  if (jobFunction) {
    try {
      await StreamExecutionEnvironment.withAmbient(env, () => jobFunction(env, args));
    } catch (err) {
      throw new JobError(`the job's default export failed while building the pipeline: ${describeUserError(err, sourceMap)}`, { cause: err });
    }
  } else if (!env.hasPipeline()) {
    throw new JobError('the job module has no default export function and built no pipeline: export default (env, args) => { ... }, or build one on StreamExecutionEnvironment.getExecutionEnvironment()');
  }
  try {
    const plan: LoadedJobPlan = env.buildPlan();
    return sourceMap ? { ...plan, sourceMap } : plan;
  } catch (err) {
    throw new JobError(`the job's pipeline is invalid: ${(err as Error).message}`, { cause: err });
  }
}

/** The job module's exported function, if it has one (see compileJobModule). */
export function evaluateJobModule(bundle: string, filename: string): JobFunction | undefined {
  return compileJobModule(bundle, filename).jobFunction;
}

/**
 * Compiles the bundle as a CommonJS module. Going through Module#_compile (not `new
 * Function`) lets Node apply the bundle's inline source map to stack traces in general
 * (logs) when source maps are on; failure causes do not rely on that, as Node's cache of
 * the map lasts only as long as nothing collects the module. They are mapped with the
 * source map returned here, which also keeps the module alive for Node as long as it is held.
 */
export function compileJobModule(bundle: string, filename: string): JobModule {
  const file = path.resolve(filename);
  const realRequire = createRequire(file);
  const mod = new Module(file) as Module & { _compile(code: string, filename: string): void };
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  mod.require = ((name: string) => (name === '@weir/api' ? api : realRequire(name))) as NodeJS.Require;
  const sourceMap = JobSourceMap.fromBundle(bundle, file, mod);
  try {
    mod._compile(bundle, file);
  } catch (err) {
    throw new JobError(`the job module failed to load: ${describeUserError(err, sourceMap)}`, { cause: err });
  }
  const exports = mod.exports as Record<string, unknown>;
  const exported = (exports.default ?? exports) as unknown;
  return { jobFunction: typeof exported === 'function' ? (exported as JobFunction) : undefined, sourceMap };
}

/** The message, and where in the job it was thrown: the first frame in the job's own (source-mapped) code. */
function describeUserError(err: unknown, sourceMap: JobSourceMap | undefined): string {
  if (!(err instanceof Error)) return String(err);
  const stack = err.stack && sourceMap ? sourceMap.mapStack(err.stack) : err.stack;
  const frames = stack?.split('\n').filter((l) => /^\s+at /.test(l)) ?? [];
  const own = frames.find((f) => !f.includes(__filename) && !/[( ]node:/.test(f));
  return own ? `${err.message} (${own.trim()})` : err.message;
}
