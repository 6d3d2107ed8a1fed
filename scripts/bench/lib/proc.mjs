// /proc readings shared by the Weir and Flink benchmark harnesses: memory of a process,
// CPU jiffies of a process and of the whole machine.
import fs from 'node:fs';

/** VmRSS of a process in kB (0 when it is gone). */
export function readRssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of the machine, from the first line of /proc/stat. */
export function machineJiffies() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** utime + stime of a process in jiffies, or null when it is gone. */
export function pidJiffies(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/**
 * Samples a benchmark cluster every 100 ms: peak RSS (overall and per phase, set
 * rss.phase) and CPU jiffies of the cluster's processes, to tell how much of the machine
 * other work took. `children` maps pid -> { cluster, exitCode }.
 */
export function createClusterSampler(children) {
  const rss = { phase: 'idle', byPhase: {}, overall: 0 };
  const cpu = { cluster: 0, last: new Map(), machineStart: null };
  function sample() {
    let sum = 0;
    for (const [pid, c] of children) {
      if (!c.cluster || c.exitCode !== null) continue;
      sum += readRssKb(pid);
      const j = pidJiffies(pid);
      if (j !== null) { cpu.cluster += j - (cpu.last.get(pid) ?? 0); cpu.last.set(pid, j); }
    }
    const mb = sum / 1024;
    rss.overall = Math.max(rss.overall, mb);
    rss.byPhase[rss.phase] = Math.max(rss.byPhase[rss.phase] ?? 0, mb);
  }
  function start() {
    cpu.machineStart = machineJiffies();
    setInterval(sample, 100).unref();
  }
  /** Shares of all cores' time since start(): the cluster's, and everything else's. */
  function cpuShares() {
    sample();
    const end = machineJiffies();
    const busy = end.busy - cpu.machineStart.busy;
    const total = end.total - cpu.machineStart.total;
    if (total <= 0) return { other: null, cluster: null };
    return { other: Math.max(0, busy - cpu.cluster) / total, cluster: cpu.cluster / total };
  }
  return { rss, sample, start, cpuShares };
}
