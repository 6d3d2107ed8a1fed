// The doc test's runner on real processes: what it must catch in a page.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planPage } from './plan';
import { PageRunner } from './runner';
import type { Scratch } from './scratch';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-runner-test-'));
const scratch: Scratch = { dir, home: dir, env: { PATH: process.env.PATH, HOME: dir }, runId: 'test', remove: () => {} };
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(markdown: string, ciScript = ''): Promise<{ runner: PageRunner; error?: string }> {
  const runner = new PageRunner(scratch, { docker: false, composePlugin: true, ciScript, log: () => {} });
  try {
    await runner.run(planPage('P.md', markdown));
    return { runner };
  } catch (e) {
    return { runner, error: (e as Error).message };
  }
}

const sh = (annotation: string[], ...lines: string[]) => ['<!-- doc-test', ...annotation, '-->', '```sh', ...lines, '```'].join('\n');

describe('PageRunner', () => {
  it('fills a placeholder from an earlier command and checks expectations', async () => {
    const { runner, error } = await run(sh(['`echo id`: <id>=/id (\\d+)/', '`echo got`: expect=/^got 42$/m'], 'echo id 42', 'echo got <id>'));
    expect(error).toBeUndefined();
    expect(runner.outcomes.map((o) => o.command)).toEqual(['echo id 42', 'echo got 42']);
  });

  it('fails a command whose output does not show what the page says, naming the line', async () => {
    const { error } = await run(sh(['`echo`: expect=/RUNNING/'], 'echo FAILED'));
    expect(error).toMatch(/^P\.md:5: `echo FAILED` output does not match \/RUNNING\//);
  });

  it('fails a command that exits non-zero, and one that leaves processes running', async () => {
    expect((await run(sh([], 'false'))).error).toMatch(/^P\.md:4: `false` exited 1, expected 0/);
    const { error } = await run(sh([], 'sleep 30 > /dev/null 2>&1 &'));
    expect(error).toMatch(/returned but left 1 process\(es\) running \(stopped now\):\n {2}\d+ sleep 30/);
  });

  it('stops a background command with its signal when the block ends, and fails when something survives it', async () => {
    const ok = await run(sh(['`sleep`: background until=/ready/ stop=SIGINT'], 'echo ready; sleep 30'));
    expect(ok.error).toBeUndefined();
    // A process that ignores SIGINT is what `weir cluster &` + `kill $!` used to leave behind.
    const stubborn = await run(sh(['`trap`: background until=/ready/ stop=SIGINT'], "trap '' INT; echo ready; sleep 30 & wait"));
    expect(stubborn.error).toMatch(/still had \d process\(es\) 15 s after SIGINT/);
  }, 60_000);

  it('runs a script block in one shell, so $! and variables carry from line to line', async () => {
    const { error } = await run(['<!-- doc-test', 'script: expect=/^stopped 143$/m', '-->', '```sh', 'sleep 30 &', 'PID=$!', 'kill $PID; wait $PID; echo stopped $?', '```'].join('\n'));
    expect(error).toBeUndefined();
  });

  it('retries until the promise holds', async () => {
    const { error, runner } = await run(sh(['`n=`: retry=10s expect=/^3$/m'], 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; cat n'));
    expect(error).toBeUndefined();
    expect(runner.outcomes[0]!.note).toBe('3 tries');
  });

  it('checks that a run-by-ci line is what .ci/run runs', async () => {
    expect((await run(sh(['`npm test`: run-by-ci'], 'npm ci && npm test'), 'npm ci --no-audit\nnpm test\n')).error).toBeUndefined();
    expect((await run(sh(['`npm test`: run-by-ci'], 'npm ci && npm test'), 'npm ci\n')).error).toMatch(/\.ci\/run has no line running `npm test`/);
  });
});
