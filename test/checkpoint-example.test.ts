import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, spawnWeir, TestCluster, timedLines, waitFor, type TimedLine, type WeirProcess } from './harness';

/**
 * The article's program as a Flink user writes it (packages/examples/src/checkpoint-example.ts,
 * unchanged: localhost:9999, checkpoints every 5 s, fixed-delay 3 x 1 s), on a real
 * JobManager and TaskManager, fed through a real socket: each number is printed within
 * 200 ms of being sent, by the TaskManager and by the attached `weir run`; bad lines fail
 * the map; the job restarts 3 times, 1 s after each failure, and fails at the fourth with
 * the cause naming the example's own file and line.
 */
const EXAMPLE = path.join(EXAMPLES, 'checkpoint-example.ts');
const PORT = 9999; // as the article has it
const PRINT_LATENCY_MS = 200;

/** The line of the example that throws on a bad line, as the failure cause must name it. */
function throwingLine(): number {
  const lines = readFileSync(EXAMPLE, 'utf8').split('\n');
  return lines.findIndex((l) => l.includes('throw new Error')) + 1;
}

/** A line server on 127.0.0.1:9999 that remembers its connections, like `nc -lk`. */
class LineServer {
  readonly connections: net.Socket[] = [];
  private readonly server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    this.connections.push(socket);
  });

  async listen(): Promise<void> {
    // Port 9999 is the article's; another test on the machine may hold it for a moment.
    await waitFor(`port ${PORT} to be free`, () =>
      new Promise<boolean>((resolve) => {
        this.server.once('error', () => resolve(false));
        this.server.listen(PORT, '127.0.0.1', () => resolve(true));
      }), 60_000, 500);
  }

  /** The n-th connection (1-based), once the job has opened it. */
  connection(n: number, timeoutMs = 30_000): Promise<net.Socket> {
    return waitFor(`connection ${n} to port ${PORT}`, () => this.connections[n - 1], timeoutMs, 5);
  }

  close(): void {
    for (const c of this.connections) c.destroy();
    this.server.close();
  }
}

async function arrival(lines: TimedLine[], text: string, after: number, what: string): Promise<number> {
  const found = await waitFor(`"${text}" in ${what}`, () => lines.find((l) => l.text === text && l.at >= after), 5_000, 2);
  return found.at;
}

describe('the article checkpoint example, end to end', () => {
  let cluster: TestCluster;
  let server: LineServer;
  let run: WeirProcess | undefined;
  beforeAll(async () => {
    server = new LineServer();
    await server.listen();
    cluster = await new TestCluster().start(1);
  }, 90_000);
  afterAll(async () => {
    run?.child.kill('SIGKILL');
    server?.close();
    await cluster?.stop();
  });

  it('prints each number within 200 ms, then restarts 3 times 1 s apart on bad lines and fails with the cause', async () => {
    const tmOut = timedLines(cluster.taskmanagers[0].process.stdout as NodeJS.ReadableStream);
    run = spawnWeir(['run', EXAMPLE, '--jobmanager', cluster.address], { cwd: cluster.dir });
    const first = await server.connection(1);
    // A user types once the job runs: wait for RUNNING, so start-up is not counted as latency.
    const submitted = await waitFor('the submission line', () => run!.stdout.find((l) => l.text.startsWith('Job has been submitted')));
    const jobId = /JobID ([0-9a-f]{32})$/.exec(submitted.text)?.[1] as string;
    await cluster.waitForState(jobId, ['RUNNING']);

    const numbers = ['1', '2', '3', '42', '-7'];
    const latencies: { line: string; taskmanager: number; attached: number }[] = [];
    for (const line of numbers) {
      const sent = Date.now();
      first.write(`${line}\n`);
      const [atTm, atRun] = await Promise.all([arrival(tmOut, line, sent, 'TaskManager stdout'), arrival(run.stdout, line, sent, 'weir run stdout')]);
      latencies.push({ line, taskmanager: atTm - sent, attached: atRun - sent });
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log('print latency (ms)', JSON.stringify(latencies));
    for (const l of latencies) {
      expect(l.taskmanager, `"${l.line}" on the TaskManager's stdout`).toBeLessThan(PRINT_LATENCY_MS);
      expect(l.attached, `"${l.line}" on weir run's stdout`).toBeLessThan(PRINT_LATENCY_MS);
    }
    // Exactly the numbers, as numbers, unprefixed at parallelism 1 (after the submission line).
    const [submittedLine, ...printed] = run.stdout.map((l) => l.text);
    expect(submittedLine).toBe(`Job has been submitted with JobID ${jobId}`);
    expect(printed).toEqual(numbers);
    expect(tmOut.map((l) => l.text)).toEqual(numbers);

    // Four bad lines: each fails the map; a restarted job connects again and gets the next.
    first.write('abc\n');
    for (let n = 2; n <= 4; n++) (await server.connection(n)).write('abc\n');

    const code = await run.exited;
    const stderr = run.stderr();
    const where = `checkpoint-example.ts:${throwingLine()}:`;
    expect(code).toBe(1);
    expect(stderr).toContain('FAILED (restarts: 3)');
    expect(stderr).toContain('Cause: ');
    expect(stderr).toContain('For input string: "abc"');
    expect(stderr).toContain(where);
    expect(stderr).not.toContain('weir.cjs:');

    const status = await cluster.status(jobId);
    expect(status.summary.name).toBe('Checkpoint Example');
    expect(status.summary.state).toBe('FAILED');
    expect(status.summary.restarts).toBe(3);
    expect(status.failure_cause).toContain('For input string: "abc"');
    expect(status.failure_cause).toContain(where);
    expect(status.failure_cause).toContain('fixed-delay (3 attempts, 1000 ms delay) gave up');
    const failures = status.exceptions.map((e) => e.timestamp);
    const restarts = status.restart_timestamps;
    expect(failures).toHaveLength(4);
    expect(restarts).toHaveLength(3);
    for (const e of status.exceptions) expect(e.root_cause).toContain(where);
    const delays = restarts.map((r, i) => r - failures[i]);
    const gaps = restarts.slice(1).map((r, i) => r - restarts[i]);
    console.log('restart delays after each failure (ms)', delays, 'gaps between restarts (ms)', gaps);
    // 1 s after each failure (a timer that fires late by a little on a busy machine)...
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThan(1250);
    }
    // ...so the restarts are 1 s apart, plus the moment the new attempt takes to fail again.
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(1000);
      expect(g).toBeLessThan(2000);
    }
  }, 90_000);
});
