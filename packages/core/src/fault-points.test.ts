import { afterEach, describe, expect, it } from 'vitest';
import { armFaultPoints, faultPoint, parseFaultPoints } from './fault-points';

afterEach(() => armFaultPoints(''));

describe('fault points', () => {
  it('do nothing when none is armed', () => {
    armFaultPoints('');
    expect(faultPoint('jm.metadata.renamed')).toBeUndefined();
  });

  it('fail I/O with ENOSPC on the chosen hit only', () => {
    armFaultPoints('jm.metadata.written:fail-io@2');
    expect(faultPoint('jm.metadata.written')).toBeUndefined();
    expect(() => faultPoint('jm.metadata.written')).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(faultPoint('jm.metadata.written')).toBeUndefined();
    expect(faultPoint('jm.metadata.renamed')).toBeUndefined();
  });

  it('fail from the n-th hit on with @n+', () => {
    armFaultPoints('tm.state.written:fail-io@2+');
    expect(faultPoint('tm.state.written')).toBeUndefined();
    expect(() => faultPoint('tm.state.written')).toThrow(/ENOSPC/);
    expect(() => faultPoint('tm.state.written')).toThrow(/ENOSPC/);
  });

  it('fail every hit without @n', () => {
    armFaultPoints('tm.state.written:fail-io');
    expect(() => faultPoint('tm.state.written')).toThrow(/ENOSPC/);
    expect(() => faultPoint('tm.state.written')).toThrow(/ENOSPC/);
  });

  it('pause an asynchronous step', async () => {
    armFaultPoints('jm.stats.saved:pause-30');
    const started = Date.now();
    await faultPoint('jm.stats.saved');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('refuse an unknown point or action with the list of known ones', () => {
    expect(() => parseFaultPoints('jm.nothing:crash')).toThrow(/unknown fault point "jm.nothing" \(known: jm.checkpoint.trigger-sent, /);
    expect(() => parseFaultPoints('jm.metadata.renamed:explode')).toThrow(/cannot parse "jm.metadata.renamed:explode"/);
    expect([...parseFaultPoints('jm.metadata.renamed:crash@2, tm.ack.sent:fail-io').keys()]).toEqual(['jm.metadata.renamed', 'tm.ack.sent']);
  });
});
