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
