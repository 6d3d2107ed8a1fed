export { startJobManager, type RunningJobManager } from './jobmanager';
export { CheckpointCoordinator } from './checkpoint/coordinator';
export { CheckpointStatsTracker } from './checkpoint/checkpoint-stats';
export { checkpointSubtaskRows, type SubtaskCheckpointRow } from './checkpoint/checkpoint-details';
export { CompletedCheckpointStore, readMetadata } from './checkpoint/completed-store';
export * from './restart/restart-strategy';
export { jobDetails, jobSummary, checkpointsView, taskmanagersView } from './views';
