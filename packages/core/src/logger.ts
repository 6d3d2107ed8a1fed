import pino, { type Logger } from 'pino';

export type { Logger };

/** Logs are pino JSON on stderr, so stdout stays for a command's own output. */
export function createLogger(name: string, level = process.env.WEIR_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid, service: name } }, pino.destination(2));
}

/** `vertex#subtask@attempt`, the task field of every log line. */
export function taskName(vertexId: string, subtask: number, attempt: number): string {
  return `${vertexId}#${subtask}@${attempt}`;
}
