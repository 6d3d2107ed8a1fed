import { existsSync } from 'node:fs';
import { JobError } from '@weir/core';

/**
 * Bundles a job file (TypeScript or JavaScript) into one CommonJS module. `@weir/api` stays
 * out: the JobManager's TaskManagers supply their own, so user code and runtime share it.
 */
export async function bundleJob(file: string): Promise<string> {
  if (!existsSync(file)) throw new JobError(`job file ${file} does not exist`);
  const esbuild = await import('esbuild');
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['@weir/api'],
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0].text;
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new JobError(`job file ${file} does not compile: ${where}${first?.text ?? (err as Error).message}`);
  }
}
