/**
 * The failure cause of a job that met damaged or missing checkpoint state: what is wrong,
 * which retained checkpoints are still whole, and why Weir does not pick one by itself.
 */
export function damagedStateCause(problem: string, whole: { id: number; path: string }[]): string {
  const first = problem.split('\n')[0];
  // Newest first: the one that loses the least work is what a user looks for.
  const retained = whole.length > 0 ? [...whole].sort((a, b) => b.id - a.id).map((c) => `checkpoint ${c.id} (${c.path})`).join(', ') : 'none';
  return (
    `damaged checkpoint state, not restarting: ${first}. Retained checkpoints that are still whole: ${retained}. ` +
    'Weir does not fall back to an older checkpoint by itself: a committing sink has already made the output written after it visible, and restoring it would write that output again.'
  );
}
