import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleJob } from '../packages/cli/src/bundle';
import { EXAMPLES } from './harness';

/**
 * A slot thread's first failure: the job is compiled in a fresh worker thread (source maps
 * on, as the CLI turns them on), a full garbage collection runs while the job runs (on a
 * busy TaskManager it does, sooner or later), and then the user's function throws. The
 * cause a task reports must name the example's own file and line all the same, in a thread
 * with source maps off too.
 */
const EXAMPLE = path.join(EXAMPLES, 'checkpoint-example.ts');

/** What a slot thread does: load the plan, run the map operator on a bad line, report the cause. */
const DRIVER = `
import { parentPort, workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import vm from 'node:vm';
import { loadJobPlan } from '../packages/runtime/src/job-loader';
import { failureCause } from '../packages/runtime/src/task/failure-cause';

if (workerData.sourceMaps) process.setSourceMapsEnabled(true);
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

(async () => {
  const plan = await loadJobPlan(workerData.bundle, [], { parallelism: 1, maxParallelism: 128 }, 'job-' + workerData.jobId + '.js');
  const vertex = [...plan.vertices.values()].find((v) => v.vertex.operators.some((o) => o.kind === 'map'));
  const map = vertex.createOperators[0]();
  await new Promise((r) => setImmediate(r));
  if (workerData.collect) gc();
  try {
    map.processElement('abc', { collect() {} });
    parentPort.postMessage({ cause: 'no failure' });
  } catch (err) {
    parentPort.postMessage({ cause: failureCause(err, { sourceMap: plan.sourceMap }) });
  }
})().catch((err) => parentPort.postMessage({ cause: 'driver failed: ' + (err && err.stack) }));
`;

let driver = '';
let bundle = '';

beforeAll(async () => {
  bundle = await bundleJob(EXAMPLE);
  const out = await build({
    stdin: { contents: DRIVER, resolveDir: __dirname, loader: 'ts', sourcefile: 'failure-cause-driver.ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['esbuild'],
    write: false,
    logLevel: 'silent',
  });
  driver = out.outputFiles[0].text;
}, 60_000);

function causeInFreshThread(options: { sourceMaps: boolean; collect: boolean }): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(driver, { eval: true, workerData: { ...options, bundle, jobId: '0123456789abcdef0123456789abcdef' } });
    worker.once('message', (m: { cause: string }) => {
      resolve(m.cause);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

function throwingLine(): number {
  return readFileSync(EXAMPLE, 'utf8').split('\n').findIndex((l) => l.includes('throw new Error')) + 1;
}

describe("a task's failure cause names the job's own file and line", () => {
  it('on the first throw in a fresh slot thread, after a full garbage collection', async () => {
    const cause = await causeInFreshThread({ sourceMaps: true, collect: true });
    expect(cause).toMatch(/^For input string: "abc"\n/);
    expect(cause).toContain(`checkpoint-example.ts:${throwingLine()}:`);
    expect(cause).not.toContain('.js:');
  });

  it('without a collection', async () => {
    const cause = await causeInFreshThread({ sourceMaps: true, collect: false });
    expect(cause).toContain(`checkpoint-example.ts:${throwingLine()}:`);
    expect(cause).not.toContain('.js:');
  });

  it('in a thread with source maps off', async () => {
    const cause = await causeInFreshThread({ sourceMaps: false, collect: true });
    expect(cause).toContain(`checkpoint-example.ts:${throwingLine()}:`);
    expect(cause).not.toContain('.js:');
  });
});
