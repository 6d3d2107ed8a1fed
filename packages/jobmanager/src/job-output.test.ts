import { describe, expect, it } from 'vitest';
import { JobOutput } from './job-output';

describe('JobOutput', () => {
  it('gives a follower the kept lines first, then every new batch, until it stops', () => {
    const out = new JobOutput(3);
    out.append(['1', '2']);
    const seen: [string[], number][] = [];
    const stop = out.follow((lines, dropped) => seen.push([lines, dropped]));
    out.append(['3']);
    stop();
    out.append(['4']);
    expect(seen).toEqual([[['1', '2'], 0], [['3'], 0]]);
  });

  it('keeps the latest lines and tells a late follower how many older ones it missed', () => {
    const out = new JobOutput(2);
    out.append(['1', '2', '3']);
    out.append(['4']);
    const seen: [string[], number][] = [];
    out.follow((lines, dropped) => seen.push([lines, dropped]));
    expect(seen).toEqual([[['3', '4'], 2]]);
  });
});
