import net from 'node:net';
import { createInterface } from 'node:readline';
import { ConfigError } from '@weir/core';

export interface LineServerOptions {
  port: number;
  hosts: string[];
  /** Least time between two lines sent, so a scripted feed reaches a job one line at a time. */
  intervalMs: number;
  input: NodeJS.ReadableStream;
  log: (line: string) => void;
}

/**
 * A line server for `socketTextStream`, as `nc -lk` is for Flink's examples: the lines of
 * stdin go to every connected client; while none is connected they wait, so a job that is
 * restarting reads on from the next line. Lines sent to a connection that then breaks are
 * lost, as with nc. Ends when stdin ends and every line has been sent.
 */
export async function runLineServer(options: LineServerOptions): Promise<number> {
  const clients = new Set<net.Socket>();
  const queue: string[] = [];
  let inputEnded = false;
  let lastSent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && clients.size > 0) {
      const wait = lastSent + options.intervalMs - Date.now();
      if (options.intervalMs > 0 && wait > 0) {
        timer = setTimeout(pump, wait);
        return;
      }
      const line = queue.shift() as string;
      for (const c of clients) c.write(`${line}\n`);
      lastSent = Date.now();
    }
    if (inputEnded && queue.length === 0) finish?.();
  };

  const servers = await Promise.all(options.hosts.map((host) => listen(host, options.port)));
  const bound = servers.filter((s): s is net.Server => !!s);
  if (bound.length === 0) throw new ConfigError(`weir lines: cannot listen on port ${options.port} (${options.hosts.join(', ')}): address already in use`);
  for (const server of bound) {
    server.on('connection', (socket) => {
      clients.add(socket);
      options.log(`client connected from ${socket.remoteAddress}:${socket.remotePort}`);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        clients.delete(socket);
        options.log('client disconnected');
      });
      // The first line to a new connection goes at once: a restarted job reads on without a pause.
      lastSent = 0;
      pump();
    });
  }
  options.log(`serving lines on port ${options.port}; type lines, or pipe them in`);

  const rl = createInterface({ input: options.input, crlfDelay: Infinity });
  rl.on('line', (line) => {
    queue.push(line);
    if (!timer) pump();
  });
  rl.on('close', () => {
    inputEnded = true;
    if (!timer) pump();
  });
  await finished;
  // Let the last lines leave before closing the connections.
  await Promise.all([...clients].map((c) => new Promise<void>((resolve) => c.end(resolve))));
  for (const s of bound) s.close();
  return 0;
}

/** Listens on one address; undefined when the address family is missing (no IPv6). */
function listen(host: string, port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT') resolve(undefined);
      else reject(new ConfigError(`weir lines: cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`));
    });
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => resolve(server));
  });
}
