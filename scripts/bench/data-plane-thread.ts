// The two ways issue 11 named to keep a slot's data plane answering while user code runs,
// measured against each other (run through data-plane-thread.mjs, which bundles this file):
//
//   in-thread  today: the slot thread runs the gRPC exchange client and the task; the task
//              gives the event loop a turn every YIELD_INTERVAL_MS of processing.
//   split      a prototype of the alternative: a network thread runs the gRPC client and
//              hands each batch to the task thread over a MessagePort (its ArrayBuffer
//              transferred, copied first when gRPC's Buffer does not own it), with credits
//              going back the same way.
//
// Part 1 streams byte-cut batches of real records over real gRPC on loopback from a
// producer thread and decodes and processes them with the real RecordSerializer and
// RecordFeeder: records/s, CPU per batch (all threads), and the task thread's own CPU.
// Part 2 runs records of 1-2 ms with one that blocks N ms, and measures how late a 50 ms
// timer on the thread that answers the network (the keepalive's stand-in) fires.
import { isMainThread, MessageChannel, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { encodeBatch, RecordSerializer } from '@weir/core';
import { RecordFeeder, YIELD_INTERVAL_MS } from '@weir/runtime/src/task/record-feeder';
import type { InputChannel } from '@weir/runtime/src/network/input-gate';

const SERVICE = {
  stream: {
    path: '/bench.Exchange/Stream', requestStream: false, responseStream: true,
    requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
  },
} as const;
const CREDITS = 8; // batches a consumer lets the network side hold, as the exchange's credits
const SEGMENT = 32 * 1024; // taskmanager.memory.segment-size

interface Opts { batches: number; rounds: number; blockMs: number[]; seconds: number }

function batchOfRecords(): { data: Buffer; count: number } {
  const records: unknown[] = [];
  let data = encodeBatch(records);
  for (let i = 0; data.length < SEGMENT; i++) {
    records.push({ i, key: i % 97, payload: 'x'.repeat(64) });
    if (i % 16 === 15) data = encodeBatch(records);
  }
  return { data, count: records.length };
}

/** CPU time of the calling thread in ms (Linux: the scheduler's ns, not wall time a busy machine stretches). */
function threadCpuMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

// ---- threads --------------------------------------------------------------------------

/** Upstream TaskManager: a gRPC server that streams `batches` batches, honouring HTTP/2 flow control. */
function producer(port: MessagePort): void {
  const { data } = batchOfRecords();
  const server = new grpc.Server();
  server.addService(SERVICE as unknown as grpc.ServiceDefinition, {
    stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const total = Number((call.request as Buffer).toString());
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent++;
          if (!call.write(data)) return void call.once('drain', pump);
        }
        call.end();
      };
      pump();
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
    if (err) throw err;
    port.postMessage({ port: boundPort });
  });
  port.on('message', (m) => m === 'stop' && server.forceShutdown());
}

function client(address: string): grpc.Client {
  const Ctor = grpc.makeGenericClientConstructor(SERVICE as unknown as grpc.ServiceDefinition, 'Exchange');
  return new Ctor(address, grpc.credentials.createInsecure());
}

/** The task side: decode, then process every record through the real RecordFeeder in time slices. */
class TaskSide {
  readonly serializer = new RecordSerializer();
  private readonly queue: Buffer[] = [];
  private running = false;
  processed = 0;
  sum = 0;
  constructor(private readonly credit: () => void, private readonly done: () => void, private readonly expected: number) {}
  readonly feeder = new RecordFeeder((r) => {
    this.sum += (r as { key: number }).key;
    this.processed++;
  }, (rs) => encodeBatch(rs));

  offer(data: Buffer): void {
    this.queue.push(data);
    if (!this.running) void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    const channel = { returnCredit: () => this.credit() } as unknown as InputChannel;
    while (this.queue.length > 0) {
      this.feeder.take(channel, this.serializer.decodeBatch(this.queue.shift() as Buffer));
      while (!this.feeder.run()) await this.feeder.yieldNow();
      if (this.feeder.sliceUsedUp()) await this.feeder.yieldNow();
    }
    this.running = false;
    if (this.processed >= this.expected) this.done();
  }
}

/** In-thread: this thread reads the gRPC stream and runs the task. */
function inThreadTask(address: string, batches: number, perBatch: number, report: (r: unknown) => void): void {
  const call = client(address).makeServerStreamRequest(SERVICE.stream.path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(String(batches)));
  let held = 0;
  const cpu0 = threadCpuMs();
  const task = new TaskSide(() => {
    if (--held < CREDITS) call.resume();
  }, () => report({ taskCpuMs: threadCpuMs() - cpu0, processed: task.processed }), batches * perBatch);
  call.on('data', (b: Buffer) => {
    if (++held >= CREDITS) call.pause();
    task.offer(b);
  });
}

/** Split, network thread: reads the gRPC stream and hands batches over, as many as the task's credits allow. */
function networkThread(address: string, batches: number, port: MessagePort): void {
  const call = client(address).makeServerStreamRequest(SERVICE.stream.path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(String(batches)));
  let credits = CREDITS;
  let copies = 0;
  call.on('data', (b: Buffer) => {
    // Only a whole ArrayBuffer can be transferred; gRPC's Buffers are often views into a larger one.
    const owned = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : Buffer.from(b);
    if (owned !== b) copies++;
    const ab = owned.buffer as ArrayBuffer;
    port.postMessage({ ab, offset: owned.byteOffset, length: owned.byteLength }, [ab]);
    if (--credits === 0) call.pause();
  });
  call.on('end', () => port.postMessage({ copies }));
  port.on('message', () => {
    if (credits++ === 0) call.resume();
  });
}

/** Split, task thread: takes batches from the network thread, gives credits back. */
function splitTask(port: MessagePort, batches: number, perBatch: number, report: (r: unknown) => void): void {
  const cpu0 = threadCpuMs();
  let copies = 0;
  const task = new TaskSide(() => port.postMessage(1), () => report({ taskCpuMs: threadCpuMs() - cpu0, processed: task.processed, copies }), batches * perBatch);
  port.on('message', (m: { ab: ArrayBuffer; offset: number; length: number; copies?: number }) => {
    if (m.copies !== undefined) return void (copies = m.copies);
    task.offer(Buffer.from(m.ab, m.offset, m.length));
  });
}

// ---- part 2: a timer on the thread that answers the network ---------------------------

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // user code
  }
}

/** Lateness of a 50 ms interval timer on this thread, until `stop()`. */
function timerLateness(): () => { max: number; p99: number; p50: number } {
  const late: number[] = [];
  let expect = performance.now() + 50;
  const t = setInterval(() => {
    const now = performance.now();
    late.push(Math.max(0, now - expect));
    expect = now + 50;
  }, 50);
  return () => {
    clearInterval(t);
    late.sort((a, b) => a - b);
    return { max: late.at(-1) ?? 0, p99: late[Math.floor(late.length * 0.99)] ?? 0, p50: late[Math.floor(late.length / 2)] ?? 0 };
  };
}

/** Records of 1-2 ms for `seconds`, the record in the middle blocking `blockMs`; time-sliced as the task is. */
async function slowRecords(seconds: number, blockMs: number): Promise<number> {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  let blocked = false;
  const feeder = new RecordFeeder(() => {
    n++;
    if (!blocked && performance.now() > end - (seconds * 1000) / 2) {
      blocked = true;
      busy(blockMs);
    } else busy(1 + Math.random());
  }, (rs) => encodeBatch(rs));
  const channel = { returnCredit: () => {} } as unknown as InputChannel;
  while (performance.now() < end) {
    feeder.take(channel, Array.from({ length: 64 }, (_, i) => i));
    while (!feeder.run()) await feeder.yieldNow();
  }
  return n;
}

// ---- orchestration --------------------------------------------------------------------

function spawn(role: string, data: Record<string, unknown>, transfer: MessagePort[] = []): Worker {
  return new Worker(__filename, { workerData: { role, ...data }, transferList: transfer });
}

function once<T>(w: Worker | MessagePort): Promise<T> {
  return new Promise((resolve) => w.once('message', resolve));
}

async function throughputRound(mode: 'in-thread' | 'split', batches: number, perBatch: number) {
  const prodChannel = new MessageChannel();
  const prod = spawn('producer', { port: prodChannel.port2 }, [prodChannel.port2]);
  const { port } = await once<{ port: number }>(prodChannel.port1);
  const address = `127.0.0.1:${port}`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const workers: Worker[] = [];
  let result: { taskCpuMs: number; processed: number; copies?: number };
  if (mode === 'in-thread') {
    const task = spawn('in-thread', { address, batches, perBatch });
    workers.push(task);
    result = await once(task);
  } else {
    const link = new MessageChannel();
    const net = spawn('network', { address, batches, port: link.port1 }, [link.port1]);
    const task = spawn('split-task', { batches, perBatch, port: link.port2 }, [link.port2]);
    workers.push(net, task);
    result = await once(task);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  prodChannel.port1.postMessage('stop');
  for (const w of [...workers, prod]) await w.terminate();
  prodChannel.port1.close();
  if (result.processed !== batches * perBatch) throw new Error(`${mode}: processed ${result.processed} of ${batches * perBatch}`);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, taskBusyMs: result.taskCpuMs, copies: result.copies };
}

async function keepaliveRound(mode: 'in-thread' | 'split', seconds: number, blockMs: number) {
  const w = spawn('slow', { mode, seconds, blockMs });
  const r = await once<{ max: number; p99: number; p50: number; records: number }>(w);
  await w.terminate();
  return r;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number, d = 0) => x.toFixed(d);

async function main(o: Opts): Promise<void> {
  const { count: perBatch, data } = batchOfRecords();
  const before = (await import('node:os')).loadavg();
  console.log(`load average ${before.map((x) => x.toFixed(2)).join(' ')}; ${perBatch} records (${data.length} B) per batch, ${o.batches} batches, ${o.rounds} rounds per mode, credits ${CREDITS}, time slice ${YIELD_INTERVAL_MS} ms`);
  console.log('\nPart 1: gRPC on loopback -> decode -> RecordFeeder (median of rounds; CPU is all threads, producer included)');
  console.log('mode        records/s   CPU us/batch   task-thread CPU us/batch   copies before transfer');
  const rows: Record<string, { wall: number[]; cpu: number[]; busy: number[]; copies: number[] }> = {};
  for (let r = 0; r < o.rounds; r++) {
    for (const mode of ['in-thread', 'split'] as const) {
      const x = await throughputRound(mode, o.batches, perBatch);
      const row = (rows[mode] ??= { wall: [], cpu: [], busy: [], copies: [] });
      row.wall.push(x.wallMs);
      row.cpu.push(x.cpuMs);
      row.busy.push(x.taskBusyMs);
      row.copies.push(x.copies ?? 0);
    }
  }
  for (const [mode, row] of Object.entries(rows)) {
    console.log(
      `${mode.padEnd(10)}  ${f((o.batches * perBatch) / (median(row.wall) / 1000)).padStart(9)}   ${f((median(row.cpu) * 1000) / o.batches).padStart(12)}   ${f((median(row.busy) * 1000) / o.batches).padStart(24)}   ${mode === 'split' ? `${median(row.copies)} of ${o.batches}` : '-'}`,
    );
  }
  const ratio = median(rows.split.wall) / median(rows['in-thread'].wall);
  const cpuRatio = median(rows.split.cpu) / median(rows['in-thread'].cpu);
  console.log(`split / in-thread: wall ${f(ratio, 2)}x, CPU ${f(cpuRatio, 2)}x, task-thread CPU ${f(median(rows.split.busy) / median(rows['in-thread'].busy), 2)}x`);

  console.log(`\nPart 2: records of 1-2 ms for ${o.seconds} s, one of them blocking N ms; lateness of a 50 ms timer on the thread that answers the network`);
  console.log('block N ms   in-thread max / p99 / p50 ms   split max / p99 / p50 ms');
  const lateness: { block_ms: number; in_thread: unknown; split: unknown }[] = [];
  for (const blockMs of o.blockMs) {
    const a = await keepaliveRound('in-thread', o.seconds, blockMs);
    const b = await keepaliveRound('split', o.seconds, blockMs);
    const cell = (x: typeof a) => `${f(x.max)} / ${f(x.p99)} / ${f(x.p50)}`;
    console.log(`${String(blockMs).padStart(10)}   ${cell(a).padStart(28)}   ${cell(b).padStart(24)}`);
    lateness.push({ block_ms: blockMs, in_thread: a, split: b });
  }
  const after = (await import('node:os')).loadavg();
  console.log(`\nload average at the end ${after.map((x) => x.toFixed(2)).join(' ')}`);
  const part1 = Object.fromEntries(Object.entries(rows).map(([mode, row]) => [mode, {
    records_per_s: Math.round((o.batches * perBatch) / (median(row.wall) / 1000)),
    cpu_us_per_batch: Math.round((median(row.cpu) * 1000) / o.batches),
    task_thread_cpu_us_per_batch: Math.round((median(row.busy) * 1000) / o.batches),
  }]));
  console.log(JSON.stringify({ bench: 'data-plane-thread', load_start: before, load_end: after, records_per_batch: perBatch, batches: o.batches, rounds: o.rounds, throughput: part1, timer_lateness_ms: lateness }));
}

function parse(argv: string[]): Opts {
  const usage = 'usage: node scripts/bench/data-plane-thread.mjs [--batches N (2000)] [--rounds N (3)] [--block-ms 0,100,1000,10000] [--seconds N (4)]';
  const o: Opts = { batches: 2000, rounds: 3, blockMs: [0, 100, 1000, 10000], seconds: 4 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const num = Number(v);
    if (a === '--batches' && num >= 10 && num <= 100_000) o.batches = num;
    else if (a === '--rounds' && num >= 1 && num <= 20) o.rounds = num;
    else if (a === '--seconds' && num >= 1 && num <= 120) o.seconds = num;
    else if (a === '--block-ms' && v && v.split(',').every((x) => Number(x) >= 0 && Number(x) <= 60_000)) o.blockMs = v.split(',').map(Number);
    else {
      console.error(`weir bench: bad option ${a} ${v ?? ''}\n${usage}`);
      process.exit(2);
    }
    i++;
  }
  return o;
}

if (isMainThread) {
  main(parse(process.argv.slice(2))).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  const d = workerData as Record<string, unknown> & { role: string };
  const report = (r: unknown) => parentPort?.postMessage(r);
  if (d.role === 'producer') producer(d.port as MessagePort);
  else if (d.role === 'in-thread') inThreadTask(d.address as string, d.batches as number, d.perBatch as number, report);
  else if (d.role === 'network') networkThread(d.address as string, d.batches as number, d.port as MessagePort);
  else if (d.role === 'split-task') splitTask(d.port as MessagePort, d.batches as number, d.perBatch as number, report);
  else if (d.role === 'timer') {
    const stop = timerLateness();
    parentPort?.once('message', () => report(stop()));
  } else if (d.role === 'slow') {
    const { mode, seconds, blockMs } = d as unknown as { mode: string; seconds: number; blockMs: number };
    if (mode === 'in-thread') {
      const stop = timerLateness();
      void slowRecords(seconds, blockMs).then((records) => report({ ...stop(), records }));
    } else {
      // The network thread's timer; the task thread (this one) runs the same records.
      const net = spawn('timer', {});
      void slowRecords(seconds, blockMs).then(async (records) => {
        net.postMessage('stop');
        const r = await once<{ max: number; p99: number; p50: number }>(net);
        await net.terminate();
        report({ ...r, records });
      });
    }
  }
}
