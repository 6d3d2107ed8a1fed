/** Flink's upper bound of max parallelism (key groups): 2^15. */
export const MAX_MAX_PARALLELISM = 32768;

/** The one table of configuration keys: type, default and meaning. Names follow Flink's. */
export type ConfigType = 'int' | 'duration' | 'memory' | 'string' | 'enum' | 'boolean' | 'double' | 'bytes';

export interface ConfigOption {
  key: string;
  type: ConfigType;
  default?: string | number | boolean;
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Said after a value below `min` is refused. */
  belowMin?: string;
  /** A secret: views and logs show that it is set, never its value. */
  secret?: boolean;
  /** A file: a relative path in a config file is taken from that file's directory. */
  file?: boolean;
  doc: string;
}

export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  { key: 'jobmanager.rpc.address', type: 'string', default: 'localhost', doc: 'Host that clients and TaskManagers use to reach the JobManager.' },
  { key: 'jobmanager.rpc.port', type: 'int', default: 6123, min: 0, doc: 'gRPC port of the JobManager.' },
  { key: 'jobmanager.bind-host', type: 'string', default: '127.0.0.1', doc: 'Address the JobManager binds its gRPC server to (loopback by default: set 0.0.0.0 to serve other machines, with security on).' },
  { key: 'rest.port', type: 'int', default: 8081, min: 0, doc: 'HTTP port of the REST API and web dashboard (0 picks a free port, -1 is not allowed).' },
  { key: 'rest.bind-address', type: 'string', default: '127.0.0.1', doc: 'Address the REST server binds to (loopback by default).' },
  { key: 'web.access-control-allow-origin', type: 'string', doc: 'Origin allowed to read the REST API from a browser (CORS); no CORS header when unset.' },
  { key: 'taskmanager.numberOfTaskSlots', type: 'int', default: 1, min: 1, doc: 'Slots a TaskManager offers; each slot runs on its own thread.' },
  { key: 'taskmanager.host', type: 'string', doc: 'Address other TaskManagers use to reach this one (default: the machine hostname in containers, 127.0.0.1 otherwise).' },
  { key: 'taskmanager.bind-host', type: 'string', default: '127.0.0.1', doc: 'Address the data exchange and metrics servers bind to (loopback by default).' },
  { key: 'taskmanager.data.port', type: 'int', default: 0, min: 0, doc: 'First data exchange port (slot i uses port+i); 0 picks free ports.' },
  { key: 'metrics.reporter.prom.port', type: 'int', default: 0, min: 0, doc: 'Prometheus metrics port of a TaskManager; 0 picks a free port.' },
  { key: 'heartbeat.interval', type: 'duration', default: 10_000, min: 1, doc: 'How often TaskManager and JobManager exchange heartbeats.' },
  { key: 'heartbeat.timeout', type: 'duration', default: 50_000, min: 1, doc: 'Silence after which a TaskManager is marked lost.' },
  { key: 'slot.request.timeout', type: 'duration', default: 300_000, min: 0, doc: 'How long a job waits for enough free slots before it fails.' },
  { key: 'parallelism.default', type: 'int', default: 1, min: 1, max: MAX_MAX_PARALLELISM, doc: 'Parallelism of jobs that set none.' },
  { key: 'pipeline.max-parallelism', type: 'int', default: 128, min: 1, max: MAX_MAX_PARALLELISM, doc: 'Number of key groups (upper bound of rescaling); at most 32768 as in Flink.' },
  { key: 'pipeline.object-reuse', type: 'boolean', default: false, doc: 'As Flink: chained operators hand records on without checking them against the serializer contract (faster; a record that could not cross tasks then fails only where it crosses).' },
  { key: 'execution.buffer-timeout', type: 'duration', default: 10, min: 0, doc: 'Longest time a record batch waits before it is sent (a task also sends what it holds when its input runs dry). 10 ms by measurement: see docs/benchmarks.md, "End-to-end latency and the buffer timeout".' },
  { key: 'execution.checkpointing.interval', type: 'duration', min: 10, belowMin: 'as in Flink; to turn checkpointing off, leave it unset', doc: 'Checkpoint interval, at least 10 ms; checkpointing is off when unset (there is no 0 to disable, as in Flink).' },
  { key: 'taskmanager.memory.segment-size', type: 'memory', default: 32 * 1024, min: 256, doc: 'Largest record batch in bytes (as Flink\'s network buffer size); a batch is also cut at 2048 records. A larger record travels in a batch of its own.' },
  { key: 'taskmanager.network.memory.buffer-debloat.enabled', type: 'boolean', default: false, doc: 'Consumers size their producers\' batches so that the data in flight per channel takes about `buffer-debloat.target` to process: aligned barriers then wait about that long at most.' },
  { key: 'taskmanager.network.memory.buffer-debloat.target', type: 'duration', default: 1000, min: 1, doc: 'Time the data in flight per input channel should take to process, when debloating is on.' },
  { key: 'taskmanager.network.memory.min-segment-size', type: 'memory', default: 256, min: 1, doc: 'Smallest batch size in bytes that debloating may ask for.' },
  { key: 'execution.checkpointing.mode', type: 'enum', default: 'EXACTLY_ONCE', values: ['EXACTLY_ONCE', 'AT_LEAST_ONCE'], doc: 'EXACTLY_ONCE aligns barriers; AT_LEAST_ONCE does not.' },
  { key: 'execution.checkpointing.unaligned.enabled', type: 'boolean', default: false, doc: 'Unaligned checkpoints (EXACTLY_ONCE only): barriers overtake the records in flight, which are stored with the checkpoint and replayed on restore before new input.' },
  { key: 'execution.checkpointing.aligned-checkpoint-timeout', type: 'duration', default: 0, min: 0, doc: 'With unaligned checkpoints on: start each checkpoint aligned and switch a task to unaligned once its alignment takes longer than this; 0 is unaligned from the start.' },
  { key: 'execution.checkpointing.timeout', type: 'duration', default: 600_000, min: 10, belowMin: 'as in Flink', doc: 'A checkpoint not complete after this long is aborted.' },
  { key: 'execution.checkpointing.min-pause', type: 'duration', default: 0, min: 0, doc: 'Least time between the end of one checkpoint and the next trigger.' },
  { key: 'execution.checkpointing.max-concurrent-checkpoints', type: 'int', default: 1, min: 1, doc: 'Checkpoints that may be in progress at once.' },
  { key: 'execution.checkpointing.tolerable-failed-checkpoints', type: 'int', default: 0, min: 0, doc: 'Consecutive failed checkpoints tolerated before the job fails over.' },
  { key: 'execution.checkpointing.externalized-checkpoint-retention', type: 'enum', default: 'RETAIN_ON_CANCELLATION', values: ['RETAIN_ON_CANCELLATION', 'DELETE_ON_CANCELLATION', 'NO_EXTERNALIZED_CHECKPOINTS'], doc: 'Which checkpoints outlive their job: a finished job\'s are deleted; a cancelled job\'s are kept with RETAIN_ON_CANCELLATION; a failed job\'s are kept unless NO_EXTERNALIZED_CHECKPOINTS.' },
  { key: 'state.checkpoints.dir', type: 'string', doc: 'Directory for checkpoints, reachable by every process: a path on a shared filesystem, or s3://bucket/path on an object store (default: .weir/checkpoints under the JobManager working directory).' },
  { key: 'state.savepoints.dir', type: 'string', doc: 'Default directory for savepoints (weir savepoint / weir stop without a directory), reachable by every process: a path or s3://bucket/path.' },
  { key: 'state.storage.fs.memory-threshold', type: 'bytes', default: 20 * 1024, min: 0, doc: 'State files up to this size are kept inline in the checkpoint\'s _metadata instead of a file (or object) of their own, as in Flink; 0 writes every file.' },
  { key: 'execution.checkpointing.file-merging.enabled', type: 'boolean', default: false, doc: 'Per checkpoint, the state files of one TaskManager\'s tasks go into one file (object) instead of one each, as Flink\'s file merging: fewer PUTs where a TaskManager runs several stateful subtasks; a lone file is written as usual.' },
  { key: 's3.endpoint', type: 'string', doc: 'Endpoint of an S3-compatible object store (http://host:port); unset for AWS S3 in `s3.endpoint.region`.' },
  { key: 's3.path.style.access', type: 'boolean', default: false, doc: 'Address buckets as endpoint/bucket rather than bucket.endpoint (most self-hosted stores need true).' },
  { key: 's3.endpoint.region', type: 'string', default: 'us-east-1', doc: 'Region that requests are signed for.' },
  { key: 's3.access-key', type: 'string', doc: 'Access key id; unset: the AWS default chain (AWS_ACCESS_KEY_ID, ~/.aws profile, container or instance role).' },
  { key: 's3.secret-key', type: 'string', doc: 'Secret access key, with `s3.access-key`.' },
  { key: 's3.entropy.key', type: 'string', doc: 'Marker in an s3:// checkpoint path replaced by random characters in state file keys (and removed from _metadata keys), to spread them over the store\'s partitions.' },
  { key: 's3.entropy.length', type: 'int', default: 4, min: 1, doc: 'Number of random characters that replace `s3.entropy.key`.' },
  { key: 's3.retry.limit', type: 'int', default: 7, min: 0, doc: 'Retries of a request that was throttled (503 SlowDown), failed with a 5xx or lost its connection; backoff doubles from `s3.retry.interval`.' },
  { key: 's3.retry.interval', type: 'duration', default: 500, min: 0, doc: 'First backoff of a retried S3 request.' },
  { key: 's3.connection.timeout', type: 'duration', default: 10_000, min: 1, doc: 'Longest wait to connect to the object store and for each response before the request counts as failed.' },
  { key: 's3.multipart.threshold', type: 'bytes', default: 16 * 1024 * 1024, min: 5 * 1024 * 1024, doc: 'Files larger than this are uploaded in parts (multipart upload).' },
  { key: 's3.multipart.size', type: 'bytes', default: 8 * 1024 * 1024, min: 5 * 1024 * 1024, doc: 'Size of each part of a multipart upload.' },
  { key: 'state.checkpoints.num-retained', type: 'int', default: 1, min: 1, doc: 'Completed checkpoints kept.' },
  { key: 'state.backend.type', type: 'enum', default: 'hashmap', values: ['hashmap', 'lmdb'], doc: 'Where keyed state lives: hashmap keeps it on the TaskManager\'s heap; lmdb keeps it in an embedded on-disk store, for state larger than memory.' },
  { key: 'state.backend.lmdb.localdir', type: 'string', doc: 'Working directory of the lmdb state backend on each TaskManager (default: the system temp directory). Its contents are scratch: checkpoints restore it.' },
  { key: 'execution.checkpointing.incremental', type: 'boolean', default: false, doc: 'Checkpoints write only the keys changed since the previous completed checkpoint (a changelog), with a full materialisation now and then; savepoints are always full.' },
  { key: 'state.backend.incremental', type: 'boolean', doc: 'Older name of execution.checkpointing.incremental, as in Flink; the newer key wins when both are set.' },
  { key: 'state.backend.changelog.max-chain-length', type: 'int', default: 20, min: 1, doc: 'Incremental checkpoints since the last full materialisation after which the next checkpoint materialises the whole state (restore reads at most this many changelog files).' },
  { key: 'state.backend.local-recovery', type: 'boolean', default: false, doc: 'A TaskManager keeps a local copy of the state it writes and, when it restarts a task it ran before, reads that copy (verified by checksum) instead of the checkpoint storage.' },
  { key: 'taskmanager.state.local.root-dirs', type: 'string', doc: 'Where local recovery keeps its copies (default: the system temp directory).' },
  { key: 'execution.savepoint.path', type: 'string', doc: 'Savepoint or retained checkpoint to start the job from (weir run -s); Weir never deletes it.' },
  { key: 'execution.savepoint.ignore-unclaimed-state', type: 'boolean', default: false, doc: 'Start even when saved state has no operator to go to; that state is dropped (weir run --allow-non-restored-state).' },
  { key: 'restart-strategy.type', type: 'enum', values: ['none', 'fixed-delay', 'failure-rate', 'exponential-delay', 'disable', 'off', 'fixeddelay', 'failurerate', 'exponentialdelay'], doc: 'Restart strategy; exponential-delay when checkpointing is on, none otherwise.' },
  { key: 'restart-strategy.fixed-delay.attempts', type: 'int', default: 1, min: 0, doc: 'Restarts before the job fails.' },
  { key: 'restart-strategy.fixed-delay.delay', type: 'duration', default: 1000, min: 0, doc: 'Delay between restarts.' },
  { key: 'restart-strategy.failure-rate.max-failures-per-interval', type: 'int', default: 1, min: 1, doc: 'Failures within the interval before the job fails.' },
  { key: 'restart-strategy.failure-rate.failure-rate-interval', type: 'duration', default: 60_000, min: 1, doc: 'Interval for the failure rate.' },
  { key: 'restart-strategy.failure-rate.delay', type: 'duration', default: 1000, min: 0, doc: 'Delay between restarts.' },
  { key: 'restart-strategy.exponential-delay.initial-backoff', type: 'duration', default: 1000, min: 0, doc: 'First restart delay.' },
  { key: 'restart-strategy.exponential-delay.max-backoff', type: 'duration', default: 60_000, min: 0, doc: 'Largest restart delay.' },
  { key: 'restart-strategy.exponential-delay.backoff-multiplier', type: 'double', default: 1.5, min: 1, doc: 'Factor applied to the delay after each failure.' },
  { key: 'restart-strategy.exponential-delay.jitter-factor', type: 'double', default: 0.1, min: 0, doc: 'Random share added to or taken from each delay.' },
  { key: 'restart-strategy.exponential-delay.reset-backoff-threshold', type: 'duration', default: 3_600_000, min: 0, doc: 'Time without failure after which the delay resets.' },
  { key: 'restart-strategy.exponential-delay.attempts-before-reset-backoff', type: 'int', default: 2147483647, min: 0, doc: 'Restarts before the job fails.' },
  { key: 'jobmanager.submission.max-size', type: 'int', default: 104_857_600, min: 1024, doc: 'Largest job submission (bundle, graph and arguments) the JobManager accepts, in bytes; larger ones are refused with the reason (as Flink\'s rest.server.max-content-length for job uploads).' },
  { key: 'cluster.registration.initial-timeout', type: 'duration', default: 100, min: 1, doc: 'First pause before a TaskManager tries again to register with a JobManager it lost; it doubles per failed try.' },
  { key: 'cluster.registration.max-timeout', type: 'duration', default: 1000, min: 1, doc: 'Longest pause between registration tries, whatever the outage length, so TaskManagers are back within about this long of the JobManager.' },
  { key: 'jobmanager.store.dir', type: 'string', doc: 'Where the JobManager keeps submitted jobs (default: .weir/jobmanager).' },
  { key: 'jobstore.max-capacity', type: 'int', default: 1000, min: 0, doc: 'Finished jobs kept in the JobManager\'s memory; older ones are pruned (their record stays in jobmanager.store.dir).' },
  { key: 'jobstore.expiration-time', type: 'duration', default: 3_600_000, min: 0, doc: 'How long a finished job stays in the JobManager\'s memory before it is pruned.' },
  { key: 'security.ssl.internal.enabled', type: 'boolean', default: false, doc: 'Mutual TLS on every gRPC connection (TaskManager <-> JobManager, TaskManager <-> TaskManager, CLI -> JobManager): a peer without a certificate of the cluster\'s CA is refused at the handshake.' },
  { key: 'security.ssl.internal.cert', type: 'string', file: true, doc: 'PEM certificate of the JobManager and TaskManagers (Flink: security.ssl.internal.keystore).' },
  { key: 'security.ssl.internal.key', type: 'string', file: true, doc: 'PEM private key of security.ssl.internal.cert (Flink: the key in the keystore, security.ssl.internal.key-password).' },
  { key: 'security.ssl.internal.ca', type: 'string', file: true, doc: 'PEM CA certificate that signs every internal and client certificate (Flink: security.ssl.internal.truststore).' },
  { key: 'security.ssl.rest.enabled', type: 'boolean', default: false, doc: 'HTTPS for the REST API and TLS for the client API (Flink: security.ssl.rest.enabled).' },
  { key: 'security.ssl.rest.cert', type: 'string', file: true, doc: 'PEM certificate the REST server presents; for the CLI its client certificate (Flink: security.ssl.rest.keystore).' },
  { key: 'security.ssl.rest.key', type: 'string', file: true, doc: 'PEM private key of security.ssl.rest.cert.' },
  { key: 'security.ssl.rest.ca', type: 'string', file: true, doc: 'PEM CA the CLI trusts for the JobManager (Flink: security.ssl.rest.truststore).' },
  { key: 'security.auth.token', type: 'string', secret: true, doc: 'Bearer token every client call and REST request must carry (also $WEIR_AUTH_TOKEN for the CLI); unset: no token is asked for.' },
  { key: 'security.auth.token-file', type: 'string', file: true, doc: 'File holding security.auth.token (one line), so the secret stays out of the configuration.' },
  { key: 'log.level', type: 'enum', default: 'info', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], doc: 'Log level of the services.' },
];

export const OPTIONS_BY_KEY: ReadonlyMap<string, ConfigOption> = new Map(CONFIG_OPTIONS.map((o) => [o.key, o]));
