// The doc test's reading of a page: what it runs, what it refuses before running anything.
import { describe, expect, it } from 'vitest';
import { commandLines, placeholders, planPage } from './plan';

const page = (...parts: string[]) => parts.join('\n');

describe('planPage', () => {
  it('runs sh blocks line by line with their annotations, and only shows other languages', () => {
    const plan = planPage('P.md', page(
      '# Title', '',
      '<!-- doc-test', '`run job`: <job-id>=/JobID (\\w+)/', '`status`: retry=30s expect=/RUNNING/ expect=/Restarts: 0/', '-->',
      '```sh', 'npx weir run job.ts   # comment', '', '# a comment line', 'npx weir status <job-id>', '```', '',
      '```ts', 'export default 1;', '```',
    ));
    expect(plan.shown).toEqual(['P.md:14 (ts)']);
    expect(plan.blocks).toHaveLength(1);
    const [run, status] = plan.blocks[0]!.steps;
    expect(run!.where).toBe('P.md:8');
    expect(run!.command).toBe('npx weir run job.ts   # comment');
    expect(run!.captures.map((c) => c.name)).toEqual(['job-id']);
    expect(status!.where).toBe('P.md:11');
    expect(status!.retryMs).toBe(30_000);
    expect(status!.expects.map(String)).toEqual(['/RUNNING/', '/Restarts: 0/']);
  });

  it('parses background, then, skip and run-by-ci, and block directives', () => {
    const plan = planPage('P.md', page(
      '<!-- doc-test', 'needs: docker', 'cleanup: `docker compose down -v`',
      '`cluster`: background until=/is up/ within=30s stop=SIGTERM',
      '`kill`: then=`weir status` retry=1min expect=/RUNNING/',
      '`open`: skip="opens a browser"', '`npm test`: run-by-ci', '-->',
      '```bash', 'weir cluster', 'kill -9 1', 'open http://x', 'npm ci && npm test', '```',
    ));
    const b = plan.blocks[0]!;
    expect(b.needs).toEqual(['docker']);
    expect(b.cleanup).toEqual(['docker compose down -v']);
    expect(b.steps.map((s) => [s.command, s.hidden])).toEqual([['weir cluster', false], ['kill -9 1', false], ['weir status', true], ['open http://x', false], ['npm ci && npm test', false]]);
    expect(b.steps[0]!.background).toEqual({ until: /is up/, stop: 'SIGTERM', withinMs: 30_000 });
    expect(b.steps[2]!.retryMs).toBe(60_000);
    expect(b.steps[3]!.skip).toBe('opens a browser');
    expect(b.steps[4]!.runByCi).toBe(true);
  });

  it('runs a script block as one command, with the block\'s actions', () => {
    const plan = planPage('P.md', page('<!-- doc-test', 'script: expect=/^done$/m timeout=2min', '-->', '```sh', 'X=1 &', 'kill $X', 'echo done', '```'));
    const steps = plan.blocks[0]!.steps;
    expect(steps).toHaveLength(1);
    expect(steps[0]!.command).toBe('X=1 &\nkill $X\necho done');
    expect(steps[0]!.where).toBe('P.md:5');
    expect(steps[0]!.timeoutMs).toBe(120_000);
  });

  it('finds placeholders outside single quotes only', () => {
    expect(placeholders("kill -9 <pid of a TaskManager>; curl -s x | grep '<title>' <job-id>")).toEqual(['pid of a TaskManager', 'job-id']);
  });

  it('joins continued lines and drops comments', () => {
    expect(commandLines('a \\\n  b\n\n# c\nd')).toEqual([{ line: 0, command: 'a  b' }, { line: 4, command: 'd' }]);
  });

  it.each([
    ['a block without a language', page('```', 'ls', '```'), 'P.md:1: code block without a language'],
    ['an unknown language', page('```python', 'x', '```'), 'unknown code block language "python"'],
    ['a placeholder nothing captured', page('```sh', 'weir status <job-id>', '```'), 'P.md:2: placeholder <job-id> has no value'],
    ['a selector that matches two lines', page('<!-- doc-test', '`weir`: expect=/x/', '-->', '```sh', 'weir a', 'weir b', '```'), 'matches 2 command lines'],
    ['a selector that matches none', page('<!-- doc-test', '`nope`: expect=/x/', '-->', '```sh', 'weir a', '```'), 'matches 0 command lines'],
    ['an unknown action', page('<!-- doc-test', '`weir`: expct=/x/', '-->', '```sh', 'weir a', '```'), 'unknown action "expct"'],
    ['an unknown directive', page('<!-- doc-test', 'skipp: why', '-->', '```sh', 'weir a', '```'), 'unknown directive'],
    ['an annotation with no block after it', page('<!-- doc-test', 'skip: x', '-->', '', 'text'), 'not followed by a code block'],
    ['an annotation above a block that is never run', page('<!-- doc-test', 'skip: x', '-->', '```ts', 'x', '```'), 'never run'],
    ['a code block in a list', page('- item', '', '  ```sh', '  ls', '  ```'), 'inside a list'],
    ['an indented code block', page('text', '', '    ls -l'), 'indented code block'],
  ])('refuses %s before running anything', (_, markdown, message) => {
    expect(() => planPage('P.md', markdown)).toThrow(message);
  });
});
