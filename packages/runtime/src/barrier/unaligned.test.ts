import { describe, expect, it } from 'vitest';
import { batchBytes, type ChannelItem } from '../network/events';
import { InputGate } from '../network/input-gate';
import { UnalignedBarrierHandler, type InputChannelState } from './unaligned';

const batch = (tag: string): ChannelItem => ({ kind: 'batch', data: Buffer.from(tag), count: 1 });
const barrier = (id: number, unaligned = true): ChannelItem => ({ kind: 'barrier', checkpointId: id, timestamp: id * 10, unaligned });
const tags = (inputs: InputChannelState[] | undefined) => inputs?.map((c) => `${c.channel}:${c.batches.map((b) => b.toString()).join(',')}`);
const queue = (gate: InputGate, i: number) => gate.channels[i].queue.map((x) => (x.kind === 'batch' ? batchBytes(x).toString() : x.kind === 'barrier' ? `|${x.checkpointId}` : 'end'));

function setup(channels = 2) {
  const gate = new InputGate();
  for (let i = 0; i < channels; i++) gate.addChannel(`c${i}`);
  const snapshots: { id: number; inputs: Promise<InputChannelState[] | undefined> }[] = [];
  const handler = new UnalignedBarrierHandler(gate, (id, _ts, _align, inputs) => snapshots.push({ id, inputs }));
  let unprocessed: Buffer | undefined;
  return { gate, handler, snapshots, setUnprocessed: (b?: Buffer) => (unprocessed = b), handle: () => handler.handleArrived(() => unprocessed) };
}

describe('UnalignedBarrierHandler', () => {
  it('snapshots at the first barrier, stores what it overtook and what arrives on other channels before their barrier', async () => {
    const t = setup();
    t.gate.channels[0].deliver(batch('a1'));
    t.gate.channels[0].deliver(batch('a2'));
    t.gate.channels[1].deliver(batch('b1'));
    t.gate.channels[0].deliver(barrier(1));
    t.gate.channels[0].deliver(batch('a3')); // after the barrier: next checkpoint's
    t.setUnprocessed(Buffer.from('rest'));
    t.handle();
    expect(t.snapshots.map((s) => s.id)).toEqual([1]);
    // the barrier left the queue; the records stay to be processed now
    expect(queue(t.gate, 0)).toEqual(['a1', 'a2', 'a3']);
    t.gate.channels[1].deliver(batch('b2'));
    let done = false;
    void t.snapshots[0].inputs.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false); // channel 1 has not delivered its barrier yet
    t.gate.channels[1].deliver(barrier(1));
    t.gate.channels[1].deliver(batch('b3'));
    expect(tags(await t.snapshots[0].inputs)).toEqual(['unprocessed:rest', 'c0:a1,a2', 'c1:b1,b2']);
    t.handle(); // channel 1's barrier is dropped, no second snapshot
    expect(t.snapshots).toHaveLength(1);
    expect(queue(t.gate, 1)).toEqual(['b1', 'b2', 'b3']);
  });

  it('completes at once when every channel already has its barrier queued, and an ended channel waits for nothing', async () => {
    const t = setup(3);
    t.gate.channels[0].deliver(batch('a1'));
    t.gate.channels[0].deliver(barrier(4));
    t.gate.channels[1].deliver(barrier(4));
    t.gate.channels[2].deliver({ kind: 'end' });
    t.handle();
    expect(tags(await t.snapshots[0].inputs)).toEqual(['c0:a1']);
    expect(t.gate.isRecording()).toBe(false);
  });

  it('an aligned barrier in the queue is not acted on at arrival; an aligned-timeout switch skips channels already aligned', async () => {
    const t = setup();
    t.gate.channels[0].deliver(barrier(2, false));
    t.gate.channels[0].deliver(batch('after'));
    t.gate.channels[1].deliver(batch('b1'));
    t.handle();
    expect(t.snapshots).toHaveLength(0);
    t.gate.channels[0].queue.shift(); // the aligner took channel 0's barrier and holds the channel
    t.handler.begin(2, 20, 500, new Set([0]), () => undefined);
    t.gate.channels[1].deliver(batch('b2'));
    t.gate.channels[1].deliver(barrier(2, false));
    expect(tags(await t.snapshots[0].inputs)).toEqual(['c1:b1,b2']);
    expect(queue(t.gate, 1)).toEqual(['b1', 'b2', '|2']); // left for the aligner, which ignores it as done
  });

  it('a newer checkpoint supersedes one still recording: the old one gets no channel state', async () => {
    const t = setup();
    t.gate.channels[0].deliver(barrier(1));
    t.handle();
    t.gate.channels[0].deliver(barrier(2));
    t.handle();
    expect(await t.snapshots[0].inputs).toBeUndefined();
    t.gate.channels[1].deliver(barrier(2));
    expect(await t.snapshots[1].inputs).toEqual([]);
  });

  it('an abort from the JobManager stops the recording', async () => {
    const t = setup();
    t.gate.channels[0].deliver(barrier(3));
    t.handle();
    t.handler.onAborted(3);
    expect(await t.snapshots[0].inputs).toBeUndefined();
    expect(t.gate.isRecording()).toBe(false);
  });
});
