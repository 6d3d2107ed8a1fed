// Reading the benchmark jobs' sink files, shared by the Weir and Flink harnesses.
import fs from 'node:fs';
import path from 'node:path';

/** First line of any sink-<subtask>-<attempt>.log with attempt >= minAttempt: its timestamp. */
export function firstSinkLineAfter(outDir, minAttempt) {
  let first = null;
  for (const f of fs.readdirSync(outDir)) {
    const m = /^sink-(\d+)-(\d+)\.log$/.exec(f);
    if (!m || Number(m[2]) < minAttempt) continue;
    const fd = fs.openSync(path.join(outDir, f), 'r');
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, 256, 0);
    fs.closeSync(fd);
    const line = buf.subarray(0, n).toString().split('\n')[0];
    if (n === 0 || !line.includes(' ')) continue;
    const ts = Number(line.split(' ')[0]);
    if (Number.isFinite(ts) && (first === null || ts < first)) first = ts;
  }
  return first;
}

/** counts-<subtask>-<attempt>.log files of the counting sink -> [{t, c}] per file. */
export function readCounts(statsDir) {
  if (!fs.existsSync(statsDir)) return [];
  return fs.readdirSync(statsDir).filter((f) => f.startsWith('counts-')).map((f) =>
    fs.readFileSync(path.join(statsDir, f), 'utf8').split('\n').filter(Boolean).map((l) => {
      const [t, c] = l.split(' ').map(Number);
      return { t, c };
    }));
}

/** Records counted by all sink subtasks up to epoch ms t (linear interpolation). */
export function countAt(series, t) {
  let total = 0;
  for (const s of series) {
    if (!s.length || t <= s[0].t) continue;
    const i = s.findIndex((p) => p.t >= t);
    if (i < 0) { total += s[s.length - 1].c; continue; }
    const a = s[i - 1], b = s[i];
    total += a.c + ((b.c - a.c) * (t - a.t)) / Math.max(1, b.t - a.t);
  }
  return total;
}

/** Epoch ms of the first committed part file with a checkpoint id > restoredId created after killT. */
export function firstNewCommit(outDir, killT, restoredId) {
  if (restoredId == null) return null;
  let first = null;
  for (const f of fs.readdirSync(outDir)) {
    const m = /^part-(\d+)-(\d+)$/.exec(f);
    if (!m || Number(m[2]) <= restoredId) continue;
    let st;
    try { st = fs.statSync(path.join(outDir, f)); } catch { continue; }
    const t = Math.floor(st.ctimeMs);
    if (t < killT) continue;
    if (first === null || t < first) first = t;
  }
  return first;
}
