import { describe, expect, it } from 'vitest';
import type { StateHandle } from '@weir/core';
import { ChangeSet } from '../state/change-set';
import { ChangelogChain } from './changelog-chain';

const file = (name: string): StateHandle => ({ operator_uid: '*', path: `/x/shared/${name}`, size: 1, checksum: name, key_group_start: 0, key_group_end: 127 });
const changes = (...keys: string[]) => {
  const c = new ChangeSet();
  for (const k of keys) c.mark('op/s', 0, k);
  return c;
};

describe('ChangelogChain', () => {
  it('starts full, then acknowledges the completed chain plus each new delta; materialises again past the length limit', () => {
    const chain = new ChangelogChain(2);
    expect(chain.nextMode(false)).toBe('full');
    chain.captured(1, 'full');
    expect(chain.written(1, file('f1'))).toEqual([file('f1')]);
    expect(chain.nextMode(false)).toBe('full'); // nothing completed yet
    chain.onCompleted(1);
    for (const id of [2, 3]) {
      expect(chain.nextMode(false)).toBe('delta');
      chain.captured(id, 'delta');
      chain.written(id, file(`d${id}`));
      chain.onCompleted(id);
    }
    expect(chain.latest()).toEqual([file('f1'), file('d2'), file('d3')]);
    expect(chain.nextMode(false)).toBe('full'); // two deltas after the full one: the limit
    expect(chain.nextMode(true)).toBe('full');
  });

  it('an aborted delta gives back its changes and its file to delete; the next delta builds on the last completed chain', () => {
    const chain = new ChangelogChain(10);
    chain.captured(1, 'full');
    chain.written(1, file('f1'));
    chain.onCompleted(1);
    const lost = changes('a', 'b');
    chain.captured(2, 'delta', lost);
    chain.written(2, file('d2'));
    expect(chain.onAborted(2)).toEqual({ changes: lost, discard: [file('d2')] });
    chain.captured(3, 'delta');
    expect(chain.written(3, file('d3'))).toEqual([file('f1'), file('d3')]);
  });

  it('a delta captured before an earlier one was aborted cannot be acknowledged (it lacks those changes); a failed write forces a full one', () => {
    const chain = new ChangelogChain(10);
    chain.captured(1, 'full');
    chain.written(1, file('f1'));
    chain.onCompleted(1);
    chain.captured(2, 'delta', changes('a'));
    chain.captured(3, 'delta', changes('b'));
    chain.written(2, file('d2'));
    chain.onAborted(2);
    expect(() => chain.written(3, file('d3'))).toThrow('checkpoint 2, which this delta builds on, was aborted');
    expect(chain.failed(3)?.states.get('op/s')?.get(0)).toEqual(new Set(['b']));
    expect(chain.nextMode(false)).toBe('full');
  });

  it('concurrent checkpoints: a later delta names the earlier pending delta in its chain, which an abort then keeps', () => {
    const chain = new ChangelogChain(10);
    chain.captured(1, 'full');
    chain.written(1, file('f1'));
    chain.onCompleted(1);
    chain.captured(2, 'delta', changes('a'));
    chain.written(2, file('d2'));
    chain.captured(3, 'delta', changes('b'));
    expect(chain.written(3, file('d3'))).toEqual([file('f1'), file('d2'), file('d3')]);
    chain.onCompleted(3);
    expect(chain.latest()).toEqual([file('f1'), file('d2'), file('d3')]);
  });
});
