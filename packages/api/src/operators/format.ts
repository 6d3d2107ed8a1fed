/** One line of text per record: strings as they are, everything else as JSON. */
export function formatRecord(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
