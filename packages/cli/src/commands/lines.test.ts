import net from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runLineServer } from './lines';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A client that records each line with the time it came. */
function client(port: number): Promise<{ socket: net.Socket; lines: { text: string; at: number }[]; ended: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve({ socket, lines, ended }));
    const lines: { text: string; at: number }[] = [];
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) lines.push({ text, at: Date.now() });
    });
    const ended = new Promise<void>((r) => socket.on('close', () => r()));
  });
}

async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('weir lines', () => {
  it('keeps lines while no client is connected, then serves them to the next one, paced by --interval', async () => {
    const port = await freePort();
    const input = new PassThrough();
    const done = runLineServer({ port, hosts: ['127.0.0.1'], intervalMs: 100, input, log: () => {} });
    input.write('1\n2\n');
    await new Promise((r) => setTimeout(r, 100));
    const first = await client(port);
    await until('two lines', () => first.lines.length === 2);
    expect(first.lines.map((l) => l.text)).toEqual(['1', '2']);
    expect(first.lines[1].at - first.lines[0].at).toBeGreaterThanOrEqual(90);

    // A restarted job: the connection breaks, lines wait, and the first goes to the new one at once.
    first.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    input.write('abc\nlast\n');
    input.end();
    await new Promise((r) => setTimeout(r, 50));
    const connectedAt = Date.now();
    const second = await client(port);
    await until('two more lines', () => second.lines.length === 2);
    expect(second.lines.map((l) => l.text)).toEqual(['abc', 'last']);
    expect(second.lines[0].at - connectedAt).toBeLessThan(90);
    // Input ended and every line sent: the server closes the connection and ends.
    await second.ended;
    expect(await done).toBe(0);
  });

  it('sends each line to every connected client', async () => {
    const port = await freePort();
    const input = new PassThrough();
    const done = runLineServer({ port, hosts: ['127.0.0.1'], intervalMs: 0, input, log: () => {} });
    await new Promise((r) => setTimeout(r, 50));
    const a = await client(port);
    const b = await client(port);
    await new Promise((r) => setTimeout(r, 50));
    input.end('x\ny\n');
    await Promise.all([a.ended, b.ended]);
    expect(a.lines.map((l) => l.text)).toEqual(['x', 'y']);
    expect(b.lines.map((l) => l.text)).toEqual(['x', 'y']);
    await done;
  });

  it('says in one line when the port is taken', async () => {
    const port = await freePort();
    const holder = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    try {
      await expect(runLineServer({ port, hosts: ['127.0.0.1'], intervalMs: 0, input: new PassThrough(), log: () => {} })).rejects.toThrow(
        `weir lines: cannot listen on 127.0.0.1:${port}: address already in use`,
      );
    } finally {
      holder.close();
    }
  });
});
