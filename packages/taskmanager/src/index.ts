export { startTaskManager, type RunningTaskManager } from './taskmanager';
export { runSlotWorker } from './slot-worker';
