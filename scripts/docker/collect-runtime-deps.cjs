#!/usr/bin/env node
// Copy the node_modules that packages/cli/dist/weir.cjs still needs at run time
// (its external requires, plus their dependency closure) from SRC to DEST.
//
//   node collect-runtime-deps.cjs SRC_ROOT DEST_ROOT [extra-package ...]
//
// The bundle is scanned for require("<bare name>") calls that are not Node
// built-ins; with the current contract that is esbuild (+ @esbuild/linux-x64)
// and maybe msgpackr (+ msgpackr-extract). Always included: esbuild and
// msgpackr when present (belt and braces: `weir run` bundles job files with
// esbuild). dependencies, optionalDependencies and peerDependencies that are
// installed are followed; missing optional ones are skipped.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');

const [src, dest, ...extra] = process.argv.slice(2);
if (!src || !dest) { console.error('usage: collect-runtime-deps.cjs SRC_ROOT DEST_ROOT [pkg ...]'); process.exit(2); }
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const bundle = path.join(src, 'packages/cli/dist/weir.cjs');
const code = fs.readFileSync(bundle, 'utf8');

// esbuild (needed by `weir run`) and extras must be installed; bare requires
// found in the bundle and msgpackr are taken along when installed (a missing one
// is only warned about: bundles carry try/require of optional packages).
const required = new Set(['esbuild', ...extra]);
const scanned = new Set();
for (const m of code.matchAll(/require\(\s*["']([^"'./][^"']*)["']\s*\)/g)) {
  const spec = m[1];
  if (builtins.has(spec) || builtins.has(spec.split('/')[0])) continue;
  scanned.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
}
const roots = new Set([...required, ...scanned, 'msgpackr']);

// Resolve like node does from a package directory: nested node_modules first, then up.
function findPkg(name, fromDir) {
  let dir = fromDir;
  for (;;) {
    const cand = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(cand, 'package.json'))) return cand;
    const parent = path.dirname(dir);
    if (parent === dir || !parent.startsWith(src)) return null;
    dir = parent;
  }
}

const seen = new Set();
const copied = [];
function visit(name, fromDir, optional) {
  const dir = findPkg(name, fromDir);
  if (!dir) {
    if (!optional) console.warn(`[collect-runtime-deps] not installed: ${name} (needed from ${path.relative(src, fromDir) || '.'})`);
    return;
  }
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  // Workspace packages (node_modules/@weir/* -> packages/*) are inside the bundle already.
  if (!real.split(path.sep).includes('node_modules')) return;
  const rel = path.relative(src, dir);
  fs.cpSync(real, path.join(dest, rel), { recursive: true, dereference: true, filter: (p) => !/[\\/]node_modules$/.test(p) || p === real });
  copied.push(rel);
  const pj = JSON.parse(fs.readFileSync(path.join(real, 'package.json'), 'utf8'));
  for (const d of Object.keys(pj.dependencies || {})) visit(d, dir, false);
  for (const d of Object.keys(pj.optionalDependencies || {})) visit(d, dir, true);
  for (const d of Object.keys(pj.peerDependencies || {})) visit(d, dir, true);
}
let missing = 0;
for (const r of roots) {
  if (required.has(r) && !findPkg(r, src)) { console.error(`[collect-runtime-deps] required package not installed: ${r}`); missing++; continue; }
  if (scanned.has(r) && !findPkg(r, src)) console.warn(`[collect-runtime-deps] warning: weir.cjs requires ${r}, which is not installed`);
  visit(r, src, true);
}
if (missing) process.exit(1);
console.log(`[collect-runtime-deps] external roots: ${[...roots].join(', ')}`);
console.log(`[collect-runtime-deps] copied ${copied.length} packages: ${copied.sort().join(' ')}`);
