import { parentPort, workerData } from 'node:worker_threads';
import type { TlsMaterial } from '@weir/core';
import { SlotRuntime, type SlotCommand } from './slot-runtime';

export interface SlotWorkerData {
  role: 'weir-slot';
  slotIndex: number;
  bindHost: string;
  port: number;
  advertisedHost: string;
  /** Internal TLS material as PEM text, when security.ssl.internal.enabled. */
  tls?: TlsMaterial;
}

/** Entry of a slot's thread: serves its data exchange and runs the tasks deployed to it. */
export async function runSlotWorker(): Promise<void> {
  const data = workerData as SlotWorkerData;
  const port = parentPort;
  if (!port) throw new Error('slot worker started outside a worker thread');
  const slot = new SlotRuntime(data.slotIndex, (event) => port.postMessage(event));
  const bound = await slot.start(data.bindHost, data.port, data.advertisedHost, data.tls);
  port.on('message', (command: SlotCommand) => slot.handle(command));
  port.postMessage({ type: 'ready', port: bound });
}
