/**
 * TypeScript shapes of the proto messages (proto-loader with keepCase, longs as numbers).
 * The .proto files are the contract; these mirror them for the compiler.
 */
export interface TaskRef { job_id: string; vertex_id: string; subtask: number; attempt: number }
export interface SlotInfo { index: number; data_address: string }
export interface StateHandle {
  operator_uid: string; path: string; size: number; checksum: string; key_group_start: number; key_group_end: number;
  /** What the file holds (absent in handles written before savepoints existed). */
  states?: StateInfo[];
  /** Tiny state kept in `_metadata` instead of a file (then `path` is empty). */
  inline_data?: Buffer;
  /** The file holds several tasks' state (file merging): this handle's is `size` bytes from `offset`. */
  shared?: boolean;
  offset?: number;
}
export interface StateInfo { operator_uid: string; name: string; kind: string; keyed: boolean }
export interface AcknowledgeCheckpoint {
  task: TaskRef; checkpoint_id: number; handles: StateHandle[]; state_size: number; checkpointed_size?: number;
  sync_duration_ms: number; async_duration_ms: number; alignment_duration_ms: number; acknowledged_at: number;
  start_delay_ms?: number; persisted_data_bytes?: number; unaligned?: boolean;
  put_count?: number; bytes_written?: number;
}
export interface DeclineCheckpoint { task: TaskRef; checkpoint_id: number; reason: string }
export interface TaskStateUpdate { task: TaskRef; state: string; error: string; timestamp: number; error_kind?: string }
export interface TaskMetrics { task: TaskRef; records_in: number; records_out: number; output_buffer_usage: number }
export interface RegisterTaskManager { taskmanager_id: string; host: string; slots: SlotInfo[]; metrics_port: number; pid: number }

export type TaskManagerMessage =
  | { kind: 'register'; register: RegisterTaskManager }
  | { kind: 'heartbeat'; heartbeat: { timestamp: number } }
  | { kind: 'task_state'; task_state: TaskStateUpdate }
  | { kind: 'ack'; ack: AcknowledgeCheckpoint }
  | { kind: 'decline'; decline: DeclineCheckpoint }
  | { kind: 'source_exhausted'; source_exhausted: { task: TaskRef } }
  | { kind: 'metrics'; metrics: { tasks: TaskMetrics[] } }
  | { kind: 'output'; output: { job_id: string; lines: string[] } };

export interface InputChannelSpec { producer_vertex_id: string; producer_subtask: number; producer_address: string; input_index: number; subpartition: number }
export interface OutputSpec { consumer_vertex_id: string; consumer_parallelism: number; partitioning: Partitioning }
export type Partitioning = 'FORWARD' | 'REBALANCE' | 'HASH' | 'BROADCAST';

export interface DeployTask {
  task: TaskRef; slot: number; parallelism: number; max_parallelism: number;
  inputs: InputChannelSpec[]; outputs: OutputSpec[]; job_bundle: Buffer; job_args: string[]; job_name: string;
  checkpoint_dir: string; restore_checkpoint_id: number; restore_handles: StateHandle[];
  checkpointing_mode: string; checkpointing_enabled: boolean; config_json: string; exchange_token: string;
  /** Directory of the checkpoint or savepoint restored from; every restore handle lies in it. */
  restore_dir?: string;
}
export type SnapshotKind = 'CHECKPOINT' | 'SAVEPOINT';
/** How a stop-with-savepoint ends the job: STOP leaves the input open, DRAIN ends it. */
export type Termination = '' | 'STOP' | 'DRAIN';
export interface TriggerCheckpoint { task: TaskRef; checkpoint_id: number; timestamp: number; final: boolean; kind?: SnapshotKind; stop?: boolean }
export interface NotifyCheckpoint { task: TaskRef; checkpoint_id: number; completed: boolean; termination?: Termination; savepoint?: boolean }

export type JobManagerMessage =
  | { kind: 'registered'; registered: { jobmanager_id: string; heartbeat_interval_ms: number } }
  | { kind: 'heartbeat'; heartbeat: { timestamp: number } }
  | { kind: 'deploy'; deploy: DeployTask }
  | { kind: 'cancel'; cancel: { task: TaskRef } }
  | { kind: 'trigger'; trigger: TriggerCheckpoint }
  | { kind: 'notify'; notify: NotifyCheckpoint };

export interface OperatorSpec { name: string; uid: string; kind: string; uid_set?: boolean; keyed?: boolean }
export interface JobVertex { id: string; name: string; parallelism: number; max_parallelism: number; operators: OperatorSpec[]; is_source: boolean }
export interface JobEdge { source: string; target: string; partitioning: Partitioning; input_index: number }
export interface JobGraph {
  name: string; vertices: JobVertex[]; edges: JobEdge[]; checkpoint_interval_ms: number;
  checkpointing_mode: string; bounded: boolean; config: Record<string, string>;
}

export type ProducerMessage =
  | { kind: 'batch'; batch: { data: Buffer; count: number } }
  | { kind: 'barrier'; barrier: { checkpoint_id: number; timestamp: number; unaligned: boolean; final: boolean } }
  | { kind: 'end'; end: Record<string, never> };
export interface PartitionRequest {
  job_id: string; attempt: number; producer_vertex_id: string; producer_subtask: number;
  consumer_vertex_id: string; consumer_subtask: number; initial_credit: number; token: string;
}
export type ConsumerMessage =
  | { kind: 'request'; request: PartitionRequest }
  | { kind: 'credit'; credit: { credit: number; batch_bytes: number } };
