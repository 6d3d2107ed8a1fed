import type { JobSourceMap } from '../job-source-map';

export interface FailureCauseOptions {
  /** The job bundle's source map: frames in the bundle are named by the job's own file and line. */
  sourceMap?: JobSourceMap;
  /** Weir's own file, whose frames are left out when the job's own are there. */
  bundleFile?: string;
}

/**
 * The failure cause a task reports: the error's message and where it was thrown. Frames in
 * the job's bundle are mapped to the job's own source with the bundle's source map (not
 * left to Node's lazy mapping, which loses a job's map once its module is collected). When
 * the stack passes through the job's own code, only those frames are kept, so the cause
 * names e.g. checkpoint-example.ts:6 rather than the runtime that called it; otherwise the
 * first frames, whatever they are.
 */
export function failureCause(err: unknown, options: FailureCauseOptions = {}): string {
  const { sourceMap, bundleFile = __filename } = options;
  const message = err instanceof Error ? err.message || String(err) : String(err);
  if (!(err instanceof Error) || !err.stack) return message;
  const frames = err.stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .map((f) => (sourceMap ? sourceMap.mapFrame(f) : f));
  const own = frames.filter((f) => !f.includes(bundleFile) && !/[( ]node:/.test(f));
  const shown = (own.length > 0 ? own : frames).slice(0, 5);
  return shown.length ? `${message}\n${shown.join('\n')}` : message;
}
