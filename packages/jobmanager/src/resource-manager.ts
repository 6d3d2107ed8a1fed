import { EventEmitter } from 'node:events';
import type { JobManagerMessage, Logger, RegisterTaskManager } from '@weir/core';

export interface SlotRecord {
  index: number;
  dataAddress: string;
  /** Job holding the slot, if any. */
  jobId?: string;
}

export interface TaskManagerRecord {
  id: string;
  host: string;
  slots: SlotRecord[];
  metricsPort: number;
  pid: number;
  registeredAt: number;
  lastHeartbeat: number;
  send(message: Partial<JobManagerMessage>): void;
  close(): void;
}

export interface AllocatedSlot {
  taskmanagerId: string;
  index: number;
  dataAddress: string;
}

/**
 * Knows the registered TaskManagers and their slots. A broken session marks a
 * TaskManager lost at once; a silent one is lost after heartbeat.timeout.
 * Emits 'lost' (id, reason) and 'slots-available'.
 */
export class ResourceManager extends EventEmitter {
  private readonly taskmanagers = new Map<string, TaskManagerRecord>();
  private readonly checker: ReturnType<typeof setInterval>;

  constructor(
    private readonly heartbeatTimeoutMs: number,
    heartbeatIntervalMs: number,
    private readonly log: Logger,
  ) {
    super();
    this.checker = setInterval(() => this.checkHeartbeats(), Math.max(50, Math.min(heartbeatIntervalMs, heartbeatTimeoutMs) / 2));
    this.checker.unref();
  }

  register(reg: RegisterTaskManager, send: TaskManagerRecord['send'], close: () => void): TaskManagerRecord {
    const existing = this.taskmanagers.get(reg.taskmanager_id);
    if (existing) this.markLost(existing.id, 'registered again');
    const record: TaskManagerRecord = {
      id: reg.taskmanager_id,
      host: reg.host,
      slots: reg.slots.map((s) => ({ index: s.index, dataAddress: s.data_address })),
      metricsPort: reg.metrics_port,
      pid: reg.pid,
      registeredAt: Date.now(),
      lastHeartbeat: Date.now(),
      send,
      close,
    };
    this.taskmanagers.set(record.id, record);
    this.log.info({ taskmanager: record.id, host: record.host, slots: record.slots.length }, 'TaskManager registered');
    this.emit('slots-available');
    return record;
  }

  heartbeat(id: string): void {
    const tm = this.taskmanagers.get(id);
    if (tm) tm.lastHeartbeat = Date.now();
  }

  markLost(id: string, reason: string): void {
    const tm = this.taskmanagers.get(id);
    if (!tm) return;
    this.taskmanagers.delete(id);
    tm.close();
    this.log.warn({ taskmanager: id, reason }, 'TaskManager lost');
    this.emit('lost', id, reason);
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    for (const tm of [...this.taskmanagers.values()]) {
      if (now - tm.lastHeartbeat > this.heartbeatTimeoutMs) this.markLost(tm.id, `no heartbeat for ${now - tm.lastHeartbeat} ms (heartbeat.timeout ${this.heartbeatTimeoutMs} ms)`);
    }
  }

  get(id: string): TaskManagerRecord | undefined {
    return this.taskmanagers.get(id);
  }

  list(): TaskManagerRecord[] {
    return [...this.taskmanagers.values()];
  }

  totalSlots(): number {
    return this.list().reduce((n, tm) => n + tm.slots.length, 0);
  }

  freeSlots(): number {
    return this.list().reduce((n, tm) => n + tm.slots.filter((s) => !s.jobId).length, 0);
  }

  /** Takes `count` free slots for a job, spread over TaskManagers; all or nothing. */
  allocate(jobId: string, count: number): AllocatedSlot[] | undefined {
    const free: { tm: TaskManagerRecord; slot: SlotRecord }[] = [];
    // Round-robin over TaskManagers so a job spreads out (and one lost worker hurts less).
    const perTm = this.list().map((tm) => tm.slots.filter((s) => !s.jobId).map((slot) => ({ tm, slot })));
    for (let round = 0; free.length < count && perTm.some((l) => l.length > round); round++) {
      for (const list of perTm) if (list[round] && free.length < count) free.push(list[round]);
    }
    if (free.length < count) return undefined;
    for (const { slot } of free) slot.jobId = jobId;
    return free.map(({ tm, slot }) => ({ taskmanagerId: tm.id, index: slot.index, dataAddress: slot.dataAddress }));
  }

  release(jobId: string): void {
    let any = false;
    for (const tm of this.taskmanagers.values()) {
      for (const slot of tm.slots) {
        if (slot.jobId === jobId) {
          slot.jobId = undefined;
          any = true;
        }
      }
    }
    if (any) this.emit('slots-available');
  }

  close(): void {
    clearInterval(this.checker);
    for (const tm of this.taskmanagers.values()) tm.close();
  }
}
