import { describe, expect, it } from 'vitest';
import { BATCHES_IN_FLIGHT, BufferDebloater } from './buffer-debloater';
import { InputGate } from './input-gate';

describe('BufferDebloater', () => {
  function setup(channels: number, targetMs = 1000) {
    const gate = new InputGate();
    const asked: number[][] = [];
    for (let i = 0; i < channels; i++) {
      const c = gate.addChannel(`c${i}`);
      asked.push([]);
      c.requestBatchBytes = (bytes) => asked[i].push(bytes);
    }
    let clock = 0;
    const d = new BufferDebloater(gate.channels, { segmentSize: 32 * 1024, minSegmentSize: 256, debloatTargetMs: targetMs }, () => clock);
    const deliver = (bytes: number) => {
      for (const c of gate.channels) c.deliver({ kind: 'batch', data: Buffer.alloc(bytes / channels), count: 1 });
    };
    return { d, gate, asked, deliver, advance: (ms: number) => void (clock += ms) };
  }

  it('asks for batches that make the data in flight per channel last the target', () => {
    const t = setup(2);
    // 64 KB/s over two channels: 32 KB per channel in 1 s, over 8 batches in flight
    for (let i = 0; i < 10; i++) {
      t.deliver(6400);
      t.advance(100);
      t.d.tick();
    }
    expect(t.d.throughput()).toBeCloseTo(64_000, -2);
    expect(t.asked[0].at(-1)).toBe(Math.floor(32_000 / BATCHES_IN_FLIGHT));
    expect(t.asked[1].at(-1)).toBe(t.asked[0].at(-1));
  });

  it('stays within the minimum and the segment size, and does not repeat a size that barely changed', () => {
    const t = setup(1);
    t.advance(100);
    t.d.tick(); // nothing came in: the smallest batch
    expect(t.asked[0]).toEqual([256]);
    t.advance(100);
    t.d.tick();
    expect(t.asked[0]).toEqual([256]);
    t.deliver(100 * 1024 * 1024);
    t.advance(100);
    t.d.tick();
    expect(t.asked[0].at(-1)).toBe(32 * 1024);
  });
});
