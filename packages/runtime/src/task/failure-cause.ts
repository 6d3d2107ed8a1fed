/**
 * The failure cause a task reports: the error's message and where it was thrown. When the
 * stack passes through the job's own code (source-mapped to its .ts file), only those
 * frames are kept, so the cause names e.g. checkpoint-example.ts:6 rather than the
 * runtime that called it; otherwise the first frames, whatever they are.
 */
export function failureCause(err: unknown, bundleFile: string = __filename): string {
  const message = err instanceof Error ? err.message || String(err) : String(err);
  if (!(err instanceof Error) || !err.stack) return message;
  const frames = err.stack.split('\n').filter((l) => /^\s+at /.test(l));
  const own = frames.filter((f) => !f.includes(bundleFile) && !/[( ]node:/.test(f));
  const shown = (own.length > 0 ? own : frames).slice(0, 5);
  return shown.length ? `${message}\n${shown.join('\n')}` : message;
}
