import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobError } from '@weir/core';

/**
 * Bundles a job file (TypeScript or JavaScript) into one CommonJS module. `@weir/api` stays
 * out: the JobManager's TaskManagers supply their own, so user code and runtime share it.
 * The bundle carries an inline source map whose sources are the job's absolute file URLs,
 * so a failure on any TaskManager names the job's own file and line.
 */
export async function bundleJob(file: string): Promise<string> {
  if (!existsSync(file)) throw new JobError(`job file ${file} does not exist`);
  const esbuild = await import('esbuild');
  const outfile = path.join(path.dirname(path.resolve(file)), '__weir_bundle__.js');
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['@weir/api'],
      write: false,
      outfile,
      sourcemap: 'external',
      sourcesContent: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'))?.text;
    return map ? withInlineSourceMap(code, map, path.dirname(outfile)) : code;
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new JobError(`job file ${file} does not compile: ${where}${first?.text ?? (err as Error).message}`);
  }
}

function withInlineSourceMap(code: string, mapText: string, outdir: string): string {
  const map = JSON.parse(mapText) as { sources: string[] };
  map.sources = map.sources.map((s) => pathToFileURL(path.resolve(outdir, s)).href);
  const body = code.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
  return `${body}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}
