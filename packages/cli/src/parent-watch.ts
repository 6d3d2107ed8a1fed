/**
 * How a process started by `weir cluster` follows its parent. The cluster gives each child
 * a stdin pipe: when the cluster dies, however it dies (SIGKILL included), the pipe
 * closes and the child stops. The cluster itself watches its own parent's pid, because a
 * wrapper such as `npx` can die without passing its signal on.
 */
export const STOP_WITH_PARENT_ENV = 'WEIR_STOP_WITH_PARENT';

/** In a child: stop when the parent's end of stdin closes. */
export function stopWhenParentGoes(stop: () => void): void {
  if (process.env[STOP_WITH_PARENT_ENV] !== '1') return;
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    stop();
    // A stop that hangs must not keep the ports: leave within 5 s regardless.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.stdin.on('end', once);
  process.stdin.on('close', once);
  process.stdin.on('error', once);
  process.stdin.resume();
}

/** In the cluster: call `gone` when this process is re-parented (its parent died). */
export function watchParentPid(gone: () => void, intervalMs = 200): () => void {
  const original = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== original) {
      clearInterval(timer);
      gone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
