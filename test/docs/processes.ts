// Process groups the doc test created: who is still in one, and stopping it. Every command
// runs as the leader of its own group (as a shell runs a job), so "did it leave anything
// running?" and "stop it like Ctrl-C does" are questions about that group alone.
import { execFileSync } from 'node:child_process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Live (not zombie) processes of a process group, as "pid command" lines. */
export function groupMembers(pgid: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && Number(m[2]) === pgid && !m[3]!.startsWith('Z'))
    .map((m) => `${m[1]} ${m[4]!.slice(0, 120)}`);
}

/** Waits up to `ms` for the group to empty; returns who is left. */
export async function waitGroupGone(pgid: number, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = groupMembers(pgid);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await sleep(100);
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}
