package dev.weir.bench;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.source.RichParallelSourceFunction;

/**
 * Deterministic generator. Globally it emits the sequence i = 0, 1, 2, ... as records
 * (key = i % numKeys, value = 1); subtask s of p emits i = s, s + p, s + 2p, ...
 * Its position is checkpointed (operator ListState), so after a restore it resumes from
 * the last checkpoint: records are replayed, the keyed sums stay exactly-once.
 *
 * <p>records = 0 means unbounded. ratePerSubtask = 0 means as fast as possible.
 */
public class GeneratorSource extends RichParallelSourceFunction<Tuple2<Long, Long>>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    private final long records;
    private final long numKeys;
    private final long ratePerSubtask;

    private volatile boolean running = true;
    /** Number of records this subtask has emitted (its own sequence position). */
    private long emitted;
    private transient ListState<Long> positionState;

    public GeneratorSource(long records, long numKeys, long ratePerSubtask) {
        this.records = records;
        this.numKeys = numKeys;
        this.ratePerSubtask = ratePerSubtask;
    }

    @Override
    public void run(SourceContext<Tuple2<Long, Long>> ctx) throws Exception {
        final int p = getRuntimeContext().getNumberOfParallelSubtasks();
        final int s = getRuntimeContext().getIndexOfThisSubtask();
        final Object lock = ctx.getCheckpointLock();
        final long startNanos = System.nanoTime();
        final long startEmitted = emitted;
        final int batch = ratePerSubtask > 0 ? 1 : 64;
        while (running) {
            if (ratePerSubtask > 0) {
                long due = (System.nanoTime() - startNanos) * ratePerSubtask / 1_000_000_000L;
                if (emitted - startEmitted >= due) {
                    Thread.sleep(1);
                    continue;
                }
            }
            synchronized (lock) {
                for (int b = 0; b < batch; b++) {
                    long i = emitted * p + s;
                    if (records > 0 && i >= records) {
                        return;
                    }
                    ctx.collect(Tuple2.of(i % numKeys, 1L));
                    emitted++;
                }
            }
        }
    }

    @Override
    public void cancel() {
        running = false;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        positionState.update(java.util.Collections.singletonList(emitted));
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        positionState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("position", Long.class));
        emitted = 0;
        if (context.isRestored()) {
            // Parallelism is fixed in these benchmarks, so each subtask gets back its own entry.
            for (Long v : positionState.get()) {
                emitted = Math.max(emitted, v);
            }
        }
    }
}
