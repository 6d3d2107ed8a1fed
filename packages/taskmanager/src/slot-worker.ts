import { parentPort, workerData } from 'node:worker_threads';
import { configureCheckpointStorage, type StorageSettings } from '@weir/runtime';
import type { TlsMaterial } from '@weir/core';
import { SlotRuntime, type SlotCommand } from './slot-runtime';

export interface SlotWorkerData {
  role: 'weir-slot';
  slotIndex: number;
  bindHost: string;
  port: number;
  advertisedHost: string;
  /** The TaskManager's own checkpoint storage settings (its s3.* keys). */
  storage: StorageSettings;
  /** Internal TLS material as PEM text, when security.ssl.internal.enabled. */
  tls?: TlsMaterial;
}

/** Entry of a slot's thread: serves its data exchange and runs the tasks deployed to it. */
export async function runSlotWorker(): Promise<void> {
  const data = workerData as SlotWorkerData;
  const port = parentPort;
  if (!port) throw new Error('slot worker started outside a worker thread');
  configureCheckpointStorage(data.storage);
  const slot = new SlotRuntime(data.slotIndex, (event) => port.postMessage(event));
  const bound = await slot.start(data.bindHost, data.port, data.advertisedHost, data.tls);
  port.on('message', (command: SlotCommand) => slot.handle(command));
  port.postMessage({ type: 'ready', port: bound });
}
