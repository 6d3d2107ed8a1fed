import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, weir } from './harness';

/**
 * `weir run` refuses a bad job before it reaches a JobManager, in one line that names the
 * job's file and line: what @weir/api does not export (type-checked, not found deep in a
 * run), checkpoint intervals Flink would refuse, and errors thrown while the pipeline is built.
 */
let dir: string;
let jobmanager: string;

function job(name: string, source: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, source);
  return file;
}

async function run(file: string, extra: string[] = []) {
  const r = await weir(['run', file, '--jobmanager', jobmanager, ...extra], { cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
}

describe('weir run: bad jobs fail before submission, in one line', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'weir-settings-'));
    jobmanager = `127.0.0.1:${await freePort()}`; // nothing listens: every case must fail before it
  });

  it('an import that @weir/api does not export fails the type check, naming file:line', async () => {
    const file = job('nope.ts', "import { Nope, type StreamExecutionEnvironment } from '@weir/api';\n\nexport default (env: StreamExecutionEnvironment) => env.fromSequence(1, 2).print();\n");
    expect(await run(file)).toBe(`weir: job file ${file} does not type-check: nope.ts:1:10: Module '"@weir/api"' has no exported member 'Nope'.`);
  });

  it('a misspelt method too, even in a job that uses Node modules', async () => {
    const file = job('mapp.ts', "import { readFileSync } from 'node:fs';\nimport type { StreamExecutionEnvironment } from '@weir/api';\n\nexport default (env: StreamExecutionEnvironment) => {\n  env.fromElements(readFileSync(__filename, 'utf8')).mapp((x) => x).print();\n};\n");
    expect(await run(file)).toBe(`weir: job file ${file} does not type-check: mapp.ts:5:54: Property 'mapp' does not exist on type 'DataStream<string>'. Did you mean 'map'?`);
  });

  it('the article API type-checks: RestartStrategies, CheckpointingMode, getCheckpointConfig', async () => {
    const file = job(
      'article.ts',
      "import { CheckpointingMode, RestartStrategies, StreamExecutionEnvironment } from '@weir/api';\nconst env = StreamExecutionEnvironment.getExecutionEnvironment();\nenv.enableCheckpointing(5000, CheckpointingMode.EXACTLY_ONCE);\nenv.getCheckpointConfig().setMinPauseBetweenCheckpoints(500);\nenv.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 1000));\nenv.fromSequence(1, 3).print();\nenv.execute('article');\n",
    );
    expect(await run(file)).toMatch(/^weir: cannot reach the JobManager at 127\.0\.0\.1:\d+/);
  });

  it('a checkpoint interval of 0 (or under 10 ms) is refused, where the job sets it', async () => {
    const file = job('zero.ts', "import type { StreamExecutionEnvironment } from '@weir/api';\n\nexport default function job(env: StreamExecutionEnvironment) {\n  env.enableCheckpointing(0);\n  env.fromSequence(1, 2).print();\n}\n");
    const line = await run(file);
    expect(line).toContain('execution.checkpointing.interval: must be at least 10 ms, got 0 ms (as in Flink; to turn checkpointing off, leave it unset)');
    expect(line).toContain(`${file}:4:7`);
    expect(await run(path.join(dir, 'article.ts'), ['-D', 'execution.checkpointing.interval=1ms'])).toBe(
      'weir: execution.checkpointing.interval: must be at least 10 ms, got 1 ms (as in Flink; to turn checkpointing off, leave it unset)',
    );
  });

  it("an error thrown while the pipeline is built names the job's own line (source maps)", async () => {
    const file = job('throws.ts', "import type { StreamExecutionEnvironment } from '@weir/api';\n\nexport default function job(env: StreamExecutionEnvironment, args: string[]) {\n  if (args.length === 0) throw new Error('give me an argument');\n  env.fromSequence(1, 2).print();\n}\n");
    expect(await run(file)).toBe(`weir: the job's default export failed while building the pipeline: give me an argument (at job (${file}:4:32))`);
  });
});
