import { Signal } from '../signal';
import type { ChannelItem } from './events';

/** The consumer side of one channel: a queue of items and a way to hand credits back. */
export class InputChannel {
  readonly queue: ChannelItem[] = [];
  ended = false;
  /** Held back while it waits for the other channels' barriers (alignment). */
  blocked = false;
  returnCredit: (n: number) => void = () => {};

  constructor(
    readonly index: number,
    readonly description: string,
    private readonly gate: InputGate,
  ) {}

  deliver(item: ChannelItem): void {
    this.queue.push(item);
    this.gate.signal.notify();
  }

  fail(error: Error): void {
    this.gate.fail(error);
  }
}

/** All input channels of a task; hands out items from channels that are not held back. */
export class InputGate {
  readonly channels: InputChannel[] = [];
  readonly signal = new Signal();
  private next = 0;
  error?: Error;

  addChannel(description: string): InputChannel {
    const channel = new InputChannel(this.channels.length, description, this);
    this.channels.push(channel);
    return channel;
  }

  fail(error: Error): void {
    this.error ??= error;
    this.signal.notify();
  }

  /** Round-robin over channels with data, so no input starves another. */
  poll(): { channel: InputChannel; item: ChannelItem } | undefined {
    const n = this.channels.length;
    for (let i = 0; i < n; i++) {
      const channel = this.channels[(this.next + i) % n];
      if (channel.blocked || channel.queue.length === 0) continue;
      this.next = (channel.index + 1) % n;
      return { channel, item: channel.queue.shift() as ChannelItem };
    }
    return undefined;
  }

  allEnded(): boolean {
    return this.channels.every((c) => c.ended);
  }

  unblockAll(): void {
    for (const c of this.channels) c.blocked = false;
    this.signal.notify();
  }
}
