#!/usr/bin/env node
// Bundles data-plane-thread.ts (as a TaskManager runs bundled code) and runs it: the
// in-thread data plane with time slicing against a network thread per slot. See the top
// of data-plane-thread.ts for what is measured.
//
//   node scripts/bench/data-plane-thread.mjs [--batches 2000] [--rounds 3] [--block-ms 0,100,1000,10000] [--seconds 4]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-dataplane-'));
const outfile = path.join(dir, 'data-plane-thread.cjs');
try {
  await build({
    entryPoints: [path.join(here, 'data-plane-thread.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    external: ['msgpackr-extract'], logLevel: 'warning',
  });
  const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit', timeout: 30 * 60_000 });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
