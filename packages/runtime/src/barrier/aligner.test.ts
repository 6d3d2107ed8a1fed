import { describe, expect, it } from 'vitest';
import { BarrierAligner, type AlignableChannel, type CheckpointingMode } from './aligner';

/** A task's input channels, a scripted clock, and what the aligner did. */
function setup(channelCount: number, mode: CheckpointingMode = 'EXACTLY_ONCE') {
  const channels: AlignableChannel[] = Array.from({ length: channelCount }, (_, index) => ({ index, blocked: false, ended: false }));
  const snapshots: { id: number; timestamp: number; alignmentMs: number; blockedAtSnapshot: boolean[] }[] = [];
  let unblocks = 0;
  let clock = 1000;
  const aligner = new BarrierAligner(
    channels,
    mode,
    (id, timestamp, alignmentMs) => snapshots.push({ id, timestamp, alignmentMs, blockedAtSnapshot: channels.map((c) => c.blocked) }),
    () => {
      unblocks++;
      for (const c of channels) c.blocked = false;
    },
    () => clock,
  );
  return {
    channels,
    snapshots,
    aligner,
    unblocks: () => unblocks,
    blocked: () => channels.map((c) => c.blocked),
    advance: (ms: number) => void (clock += ms),
    barrier: (channel: number, id: number, timestamp = id * 100) => aligner.onBarrier(channels[channel], id, timestamp),
  };
}

describe('BarrierAligner, EXACTLY_ONCE', () => {
  it('holds back each channel that delivered barrier n until all have, then snapshots once and releases', () => {
    const t = setup(3);
    t.barrier(1, 1, 555);
    expect(t.blocked()).toEqual([false, true, false]);
    expect(t.aligner.isAligning()).toBe(true);
    t.advance(30);
    t.barrier(0, 1, 555);
    expect(t.blocked()).toEqual([true, true, false]);
    expect(t.snapshots).toEqual([]);
    t.advance(12);
    t.barrier(2, 1, 555);
    expect(t.snapshots).toEqual([{ id: 1, timestamp: 555, alignmentMs: 42, blockedAtSnapshot: [true, true, true] }]);
    expect(t.blocked()).toEqual([false, false, false]);
    expect(t.unblocks()).toBe(1);
    expect(t.aligner.isAligning()).toBe(false);
  });

  it('aligns the next checkpoint afresh, with its own alignment time', () => {
    const t = setup(2);
    t.barrier(0, 1);
    t.barrier(1, 1);
    t.advance(100);
    t.barrier(1, 2);
    t.advance(5);
    t.barrier(0, 2);
    expect(t.snapshots.map((s) => [s.id, s.timestamp, s.alignmentMs])).toEqual([[1, 100, 0], [2, 200, 5]]);
  });

  it('a single-channel task snapshots at once and never blocks', () => {
    const t = setup(1);
    t.barrier(0, 1);
    expect(t.snapshots.map((s) => [s.id, s.alignmentMs, s.blockedAtSnapshot])).toEqual([[1, 0, [false]]]);
    expect(t.blocked()).toEqual([false]);
  });

  it('does not wait for a channel that has ended', () => {
    const t = setup(3);
    t.channels[2].ended = true;
    t.barrier(0, 1);
    expect(t.snapshots).toEqual([]);
    t.barrier(1, 1);
    expect(t.snapshots.map((s) => s.id)).toEqual([1]);
    expect(t.blocked()).toEqual([false, false, false]);
  });

  it('completes an alignment when the last missing channel ends', () => {
    const t = setup(2);
    t.barrier(0, 3);
    expect(t.blocked()).toEqual([true, false]);
    t.advance(8);
    t.channels[1].ended = true;
    t.aligner.onEndOfPartition();
    expect(t.snapshots.map((s) => [s.id, s.alignmentMs])).toEqual([[3, 8]]);
    expect(t.blocked()).toEqual([false, false]);
  });

  it('end of partition without an alignment in progress snapshots nothing', () => {
    const t = setup(2);
    t.channels[0].ended = true;
    t.aligner.onEndOfPartition();
    expect(t.snapshots).toEqual([]);
    expect(t.unblocks()).toBe(0);
  });

  it('a newer barrier during alignment releases the older alignment and aligns the newer one', () => {
    const t = setup(3);
    t.barrier(0, 1);
    t.barrier(1, 1);
    expect(t.blocked()).toEqual([true, true, false]);
    t.advance(50);
    t.barrier(2, 2);
    // checkpoint 1 is given up: its held channels were released; only channel 2 waits for 2
    expect(t.unblocks()).toBe(1);
    expect(t.blocked()).toEqual([false, false, true]);
    expect(t.snapshots).toEqual([]);
    t.advance(4);
    t.barrier(0, 1); // a late barrier of the superseded checkpoint
    expect(t.blocked()).toEqual([false, false, true]);
    t.barrier(0, 2);
    t.barrier(1, 2);
    expect(t.snapshots.map((s) => [s.id, s.alignmentMs])).toEqual([[2, 4]]);
  });

  it('an abort of the checkpoint being aligned releases the channels; its late barriers are ignored', () => {
    const t = setup(2);
    t.barrier(0, 4);
    expect(t.blocked()).toEqual([true, false]);
    t.aligner.onAborted(4);
    expect(t.blocked()).toEqual([false, false]);
    expect(t.aligner.isAligning()).toBe(false);
    t.barrier(1, 4);
    expect(t.blocked()).toEqual([false, false]);
    expect(t.snapshots).toEqual([]);
    t.barrier(0, 5);
    t.barrier(1, 5);
    expect(t.snapshots.map((s) => s.id)).toEqual([5]);
  });

  it('an abort of another checkpoint leaves the alignment alone', () => {
    const t = setup(2);
    t.barrier(0, 4);
    t.aligner.onAborted(3);
    expect(t.blocked()).toEqual([true, false]);
    t.barrier(1, 4);
    expect(t.snapshots.map((s) => s.id)).toEqual([4]);
  });

  it('ignores barriers of a checkpoint already snapshotted', () => {
    const t = setup(2);
    t.barrier(0, 2);
    t.barrier(1, 2);
    t.barrier(0, 2);
    t.barrier(1, 1);
    expect(t.blocked()).toEqual([false, false]);
    expect(t.aligner.isAligning()).toBe(false);
    expect(t.snapshots.map((s) => s.id)).toEqual([2]);
  });
});

describe('BarrierAligner, AT_LEAST_ONCE', () => {
  it('never blocks a channel but snapshots once every barrier has arrived', () => {
    const t = setup(3, 'AT_LEAST_ONCE');
    t.barrier(0, 1);
    t.advance(20);
    t.barrier(2, 1);
    expect(t.blocked()).toEqual([false, false, false]);
    expect(t.snapshots).toEqual([]);
    t.barrier(1, 1);
    expect(t.snapshots).toEqual([{ id: 1, timestamp: 100, alignmentMs: 20, blockedAtSnapshot: [false, false, false] }]);
    t.barrier(1, 1);
    expect(t.snapshots).toHaveLength(1);
  });

  it('aligned-checkpoint timeout: takeOver hands the checkpoint and its aligned channels over and releases them', () => {
    const t = setup(3);
    t.barrier(0, 5);
    t.advance(300);
    t.barrier(2, 5);
    t.advance(200);
    expect(t.aligner.alignmentMs()).toBe(500);
    expect(t.aligner.takeOver()).toEqual({ checkpointId: 5, timestamp: 500, alignmentMs: 500, aligned: new Set([0, 2]) });
    expect(t.blocked()).toEqual([false, false, false]);
    expect(t.aligner.isAligning()).toBe(false);
    t.barrier(1, 5); // the late barrier of a checkpoint taken over: nothing happens
    expect(t.snapshots).toEqual([]);
  });

  it("a bounded job's final checkpoint is never taken over: it stays aligned", () => {
    const t = setup(2);
    t.aligner.onBarrier(t.channels[0], 9, 900, true);
    t.advance(10_000);
    expect(t.aligner.takeOver()).toBeUndefined();
    t.barrier(1, 9);
    expect(t.snapshots.map((s) => s.id)).toEqual([9]);
  });
});
