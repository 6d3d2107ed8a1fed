import { describe, expect, it } from 'vitest';
import { PrintForwarder } from './print-forwarder';

describe('PrintForwarder', () => {
  it('hands on the lines of one turn of the event loop together, per job', async () => {
    const sent: [string, string[]][] = [];
    const f = new PrintForwarder((job, lines) => sent.push([job, lines]));
    f.add('a', '1');
    f.add('b', 'x');
    f.add('a', '2');
    expect(sent).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([['a', ['1', '2']], ['b', ['x']]]);
  });

  it('flush() sends what is pending at once, so a task state never overtakes its lines', () => {
    const sent: string[] = [];
    const f = new PrintForwarder((_job, lines) => sent.push(...lines));
    f.add('a', 'last line');
    f.flush();
    sent.push('task FINISHED');
    expect(sent).toEqual(['last line', 'task FINISHED']);
  });

  it('above the rate it forwards a count instead of the lines', () => {
    let now = 0;
    const sent: string[] = [];
    const f = new PrintForwarder((_job, lines) => sent.push(...lines), 2, () => now);
    for (const l of ['1', '2', '3', '4']) f.add('a', l);
    f.flush();
    expect(sent).toEqual(['1', '2']);
    now = 1000;
    f.add('a', '5');
    f.flush();
    expect(sent.slice(2)).toEqual(["[weir: 2 printed line(s) not forwarded: more than 2 lines/s; the TaskManager's stdout has them]", '5']);
  });
});
