// Bundles the whole of Weir into one file (packages/cli/dist/weir.cjs) with the protos beside it.
import { build } from 'esbuild';
import { cpSync, mkdirSync, chmodSync, readFileSync, rmSync } from 'node:fs';

// The web dashboard's HTML, CSS and browser JS go into the bundle as strings.
const dashboardAssets = {
  name: 'dashboard-assets',
  setup(b) {
    b.onLoad({ filter: /[\\/]jobmanager[\\/]src[\\/]web[\\/]assets[\\/][^\\/]+\.(html|css|js)$/ }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
  },
};

const outdir = 'packages/cli/dist';
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: ['packages/cli/src/main.ts'],
  outfile: `${outdir}/weir.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  // esbuild bundles jobs at `weir run` time; msgpackr and lmdb load native addons (lmdb's
  // prebuilt binary comes in its @lmdb/lmdb-<platform> package; the Docker image copies it).
  external: ['esbuild', 'msgpackr-extract', 'lmdb'],
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
  plugins: [dashboardAssets],
});
chmodSync(`${outdir}/weir.cjs`, 0o755);
cpSync('proto', `${outdir}/proto`, { recursive: true });

// Declarations of @weir/api alone, for `weir run` to type-check jobs against: a handful of
// small files, where the sources would drag in every type the runtime uses.
const ts = (await import('typescript')).default;
rmSync(`${outdir}/api-types`, { recursive: true, force: true });
const program = ts.createProgram(['packages/api/src/index.ts'], {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
  declaration: true,
  emitDeclarationOnly: true,
  outDir: `${outdir}/api-types`,
});
const emitted = program.emit();
if (emitted.emitSkipped) throw new Error('could not write the @weir/api declarations');
console.log(`built ${outdir}/weir.cjs`);
