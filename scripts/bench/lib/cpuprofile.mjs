#!/usr/bin/env node
// Summarises V8 .cpuprofile files (node --cpu-prof): self time per function (name + url +
// line), summed over all given files, with percentages of the total sampled time.
// Usage as a script: node scripts/bench/lib/cpuprofile.mjs [--top N] FILE_OR_DIR...

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function summarise(files) {
  const self = new Map(); // key -> ms
  let totalMs = 0;
  const perFile = [];
  for (const f of files) {
    const p = JSON.parse(fs.readFileSync(f, 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const dt = new Map();
    // timeDeltas[i] is the time before sample i; attribute it to that sample's node.
    for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
    let fileMs = 0, idleMs = 0;
    for (const [id, us] of dt) {
      const n = byId.get(id);
      const cf = n.callFrame;
      const ms = us / 1000;
      fileMs += ms;
      if (cf.functionName === '(idle)') { idleMs += ms; continue; }
      const url = cf.url ? cf.url.replace(/^file:\/\//, '') : '';
      const key = `${cf.functionName || '(anonymous)'}\t${url ? `${path.basename(url)}:${cf.lineNumber + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + ms);
      totalMs += ms;
    }
    perFile.push({ file: path.basename(f), sampled_ms: Math.round(fileMs), idle_ms: Math.round(idleMs) });
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).map(([k, ms]) => {
    const [fn, where] = k.split('\t');
    return { function: fn, where, self_ms: Math.round(ms), percent: Math.round((ms / totalMs) * 1000) / 10 };
  });
  return { totalMs: Math.round(totalMs), perFile, top };
}

export function formatSummary(s, n = 15) {
  const rows = s.top.slice(0, n).map((r, i) => [String(i + 1), `${r.percent.toFixed(1)}%`, `${r.self_ms} ms`, r.function, r.where]);
  const head = ['#', 'self %', 'self', 'function', 'where'];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [
    `non-idle samples: ${s.totalMs} ms over ${s.perFile.length} profiles (${s.perFile.map((f) => `${f.file}: ${f.sampled_ms} ms, idle ${f.idle_ms}`).join('; ')})`,
    '', line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  let top = 15;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else if (fs.statSync(args[i]).isDirectory()) files.push(...fs.readdirSync(args[i]).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(args[i], f)));
    else files.push(args[i]);
  }
  const s = summarise(files);
  console.log(formatSummary(s, top));
}
