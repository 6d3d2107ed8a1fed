/**
 * Where print() lines go. By default, the process's stdout; a TaskManager slot installs a
 * handler that also forwards each line to the JobManager, so that an attached `weir run`
 * shows what the job prints.
 */
export type PrintHandler = (jobId: string, line: string) => void;

const toStdout: PrintHandler = (_jobId, line) => {
  process.stdout.write(`${line}\n`);
};

let handler: PrintHandler = toStdout;

export function setPrintHandler(next: PrintHandler | undefined): void {
  handler = next ?? toStdout;
}

export function printLine(jobId: string, line: string): void {
  handler(jobId, line);
}
