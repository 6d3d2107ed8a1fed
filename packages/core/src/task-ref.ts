import type { TaskRef } from './messages';

/** One string per task attempt, for maps keyed by task. */
export function taskRefKey(ref: TaskRef): string {
  return `${ref.job_id}/${ref.vertex_id}/${ref.subtask}@${ref.attempt}`;
}
