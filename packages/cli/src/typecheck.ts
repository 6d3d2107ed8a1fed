import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { JobError } from '@weir/core';

type TS = typeof import('typescript');

/** This Weir's root: `packages/cli/dist/weir.cjs` and `packages/cli/src/*.ts` both sit three levels below. */
function weirRoot(): string {
  return path.resolve(__dirname, '../../..');
}

function loadTypeScript(root: string): TS | undefined {
  try {
    // Not a literal require: the Docker image's dependency scan must not take the compiler along.
    return createRequire(path.join(root, 'package.json'))('typescript') as TS;
  } catch {
    return undefined;
  }
}

/** The declarations the build writes beside the bundle, or the sources in a checkout. */
function apiTypes(root: string): string | undefined {
  return [path.join(root, 'packages/cli/dist/api-types/index.d.ts'), path.join(root, 'packages/api/src/index.ts')].find((p) => existsSync(p));
}

/** "Cannot find name 'process'/'Buffer'... install type definitions for node", or a node module not found. */
const NEEDS_NODE_TYPES = new Set([2580, 2591, 2592]);

/**
 * Type-checks a TypeScript job against `@weir/api` before it is bundled, as javac would a
 * Flink job: `import { Nope } from '@weir/api'` or a misspelt method fails here, as one
 * line naming file:line, not deep inside a run. Only the job's own files are reported.
 * Node's types are loaded only for jobs that use Node (they are most of the cost).
 * Skipped (returns false) for JavaScript jobs, or where the compiler is not installed (a
 * production install without dev dependencies).
 */
export function typecheckJob(file: string): boolean {
  if (!/\.[cm]?tsx?$/.test(file) || !existsSync(file)) return false;
  const root = weirRoot();
  const api = apiTypes(root);
  if (!api) return false;
  const cache = cacheFile(file, api);
  if (stillChecked(cache)) return true;
  const ts = loadTypeScript(root);
  if (!ts) return false;
  let diagnostics = check(ts, root, api, file, false);
  // A syntax error is the bundler's to report ("does not compile"), as for a JavaScript job.
  if (diagnostics === 'syntax') return false;
  if (diagnostics.some((d: import('typescript').Diagnostic) => NEEDS_NODE_TYPES.has(d.code) || (d.code === 2307 && /'(node:[^']+|fs|path|net|os|crypto|url|util|events|stream|child_process|worker_threads|http|https|zlib|readline)'/.test(ts.flattenDiagnosticMessageText(d.messageText, ' '))))) {
    diagnostics = check(ts, root, api, file, true);
  }
  if (diagnostics === 'syntax') return false;
  if (diagnostics.length === 0) {
    remember(cache, checkedFiles);
    return true;
  }
  const first = diagnostics[0];
  const message = ts.flattenDiagnosticMessageText(first.messageText, ' ');
  let where = '';
  if (first.file && first.start !== undefined) {
    const { line, character } = first.file.getLineAndCharacterOfPosition(first.start);
    where = `${path.relative(process.cwd(), first.file.fileName) || first.file.fileName}:${line + 1}:${character + 1}: `;
  }
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more error${diagnostics.length > 2 ? 's' : ''})` : '';
  throw new JobError(`job file ${file} does not type-check: ${where}${message}${more}`);
}

/** The job's own files of the latest check, for the cache. */
let checkedFiles: string[] = [];

function check(ts: TS, root: string, api: string, file: string, nodeTypes: boolean): readonly import('typescript').Diagnostic[] | 'syntax' {
  const program = ts.createProgram([path.resolve(file)], {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
    // esbuild bundles `import x from './other.ts'`, so the check must accept it too.
    allowImportingTsExtensions: true,
    strict: false,
    types: nodeTypes ? ['node'] : [],
    typeRoots: [path.join(root, 'node_modules/@types')],
    paths: { '@weir/api': [api] },
  });
  const weirFiles = path.join(root, 'packages') + path.sep;
  const own = program.getSourceFiles().filter((f) => !f.isDeclarationFile && !f.fileName.includes('/node_modules/') && !path.resolve(f.fileName).startsWith(weirFiles + 'api') && !path.resolve(f.fileName).startsWith(weirFiles + 'core'));
  checkedFiles = own.map((f) => path.resolve(f.fileName));
  if (own.some((f) => program.getSyntacticDiagnostics(f).length > 0)) return 'syntax';
  return [...program.getOptionsDiagnostics(), ...own.flatMap((f) => program.getSemanticDiagnostics(f))].filter((d) => d.category === ts.DiagnosticCategory.Error);
}

// A job that type-checked is not checked again while none of its own files changed: the
// compiler costs about a second of CPU, and a job is often run many times while written.
export function typecheckCacheDir(): string {
  return path.join(os.tmpdir(), `weir-typecheck-${process.getuid?.() ?? 'user'}`);
}

function sha(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Keyed by the job's path and this build of Weir (a rebuild may change the API). */
function cacheFile(file: string, api: string): string {
  const build = statSync(__filename);
  const key = sha(`${path.resolve(file)}\n${api}\n${build.size}\n${build.mtimeMs}`);
  return path.join(typecheckCacheDir(), `${key.slice(0, 32)}.json`);
}

function stillChecked(cache: string): boolean {
  try {
    const entries = JSON.parse(readFileSync(cache, 'utf8')) as { file: string; sha: string }[];
    return entries.length > 0 && entries.every((e) => existsSync(e.file) && sha(readFileSync(e.file)) === e.sha);
  } catch {
    return false;
  }
}

function remember(cache: string, files: string[]): void {
  try {
    mkdirSync(path.dirname(cache), { recursive: true });
    writeFileSync(cache, JSON.stringify(files.map((file) => ({ file, sha: sha(readFileSync(file)) }))));
  } catch {
    // a cache that cannot be written only costs the next run a check
  }
}
