import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, TestCluster, waitFor } from './harness';

describe('sources and sinks on a real cluster', () => {
  const cluster = new TestCluster();
  beforeAll(async () => {
    await cluster.start(2);
  });
  afterAll(() => cluster.stop());

  it('the socket example parses numbers from a socket and prints them; it ends when the socket closes', async () => {
    let client: net.Socket | undefined;
    const server = net.createServer((socket) => {
      client = socket;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const id = await cluster.submit(path.join(EXAMPLES, 'socket-numbers.ts'), ['127.0.0.1', String(port)]);
      await waitFor('the job to connect', () => client);
      client!.write('1\n2\nnot a number\n');
      client!.write('3\n40');
      client!.end('0\n');
      await cluster.waitForState(id, ['FINISHED'], 30_000);
      const printed = await waitFor('the numbers printed', () => {
        const lines = cluster.taskmanagers.flatMap((tm) => tm.stdout().split('\n')).filter((l) => /^\d+$/.test(l));
        return lines.length >= 4 ? lines : undefined;
      }, 10_000);
      expect(printed).toEqual(['1', '2', '3', '400']);
    } finally {
      server.close();
    }
  });

  it('readTextFile -> map -> writeAsText writes every line', async () => {
    const input = path.join(cluster.dir, 'input.txt');
    const output = path.join(cluster.dir, 'output.txt');
    writeFileSync(input, 'alpha\nbeta\ngamma\n');
    const r = await cluster.cli(['run', path.join(__dirname, 'jobs', 'text-files.ts'), '--', input, output]);
    expect(r.code).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe('ALPHA\nBETA\nGAMMA\n');
  });
});
