package dev.weir.bench;

import java.time.Duration;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Shared job construction for ThroughputJob and RecoveryJob. */
final class Jobs {
    private Jobs() {}

    static final class KeyOf implements KeySelector<Tuple2<Long, Long>, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long getKey(Tuple2<Long, Long> t) {
            return t.f0;
        }
    }

    /**
     * Environment: heap (hashmap) state backend, checkpoints (if interval &gt; 0) exactly-once,
     * aligned, to the filesystem checkpoint storage configured on the cluster (or
     * --checkpoint-dir), fixed-delay restart.
     */
    static StreamExecutionEnvironment env(Args a, long defaultCheckpointMs) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
        String dir = a.get("checkpoint-dir", null);
        if (dir != null) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir);
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, Integer.MAX_VALUE);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                Duration.ofMillis(a.getLong("restart-delay-ms", 500)));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(conf);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.setParallelism(a.getInt("parallelism", 2));
        long ckpt = a.getLong("checkpoint-interval-ms", defaultCheckpointMs);
        if (ckpt > 0) {
            env.enableCheckpointing(ckpt, CheckpointingMode.EXACTLY_ONCE);
            env.getCheckpointConfig().setMinPauseBetweenCheckpoints(0);
            env.getCheckpointConfig().setMaxConcurrentCheckpoints(1);
            env.getCheckpointConfig().setCheckpointTimeout(10 * 60 * 1000L);
            env.getCheckpointConfig().setTolerableCheckpointFailureNumber(Integer.MAX_VALUE);
        }
        return env;
    }

    /** generator -> keyBy(key) -> running sum; returns the sum's output stream. */
    static DataStream<Tuple2<Long, Long>> pipeline(StreamExecutionEnvironment env, Args a,
                                                   long defaultKeys, long defaultRate) {
        long records = a.getLong("records", 0);
        long keys = a.getLong("keys", defaultKeys);
        long rate = a.getLong("rate", defaultRate);
        return env.addSource(new GeneratorSource(records, keys, rate))
                .name("generator").uid("generator")
                .keyBy(new KeyOf())
                .process(new RunningSum.OfPairs())
                .name("sum").uid("sum");
    }
}
