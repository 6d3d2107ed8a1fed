import type { StreamExecutionEnvironment } from '@weir/api';

/**
 * The seed example: numbers from a socket, parsed, printed. Start a server first, for
 * example `npx weir lines --port 9999`, then `npx weir run packages/examples/src/socket-numbers.ts -- localhost 9999`.
 * A socket cannot be replayed: after a recovery the job reads on from what arrives next.
 */
export default function socketNumbers(env: StreamExecutionEnvironment, args: string[]): void {
  const [host = 'localhost', port = '9999'] = args;
  env.setJobName('socket-numbers');
  env
    .socketTextStream(host, Number(port))
    .map((line: string) => Number(line.trim()))
    .filter((n) => Number.isFinite(n))
    .name('parse')
    .print();
}
